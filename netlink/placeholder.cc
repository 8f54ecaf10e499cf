namespace rmha::netlink { void placeholder() {} }
