namespace rmha::failover { void placeholder() {} }
