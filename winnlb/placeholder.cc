namespace rmha::winnlb { void placeholder() {} }
