"""The HTTP API: a producer and a reader of the `workers` domain."""
