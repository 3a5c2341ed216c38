"""What a run leaves behind for operators: JSON logs, history in PostgreSQL, Prometheus metrics."""
