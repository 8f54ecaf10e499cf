namespace rmha::failover::daemon { void placeholder() {} }
