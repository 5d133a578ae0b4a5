"""Latency statistics of an owner's jobs, computed in the database (`GET /v1/stats/latency`,
`abstrakt-queue stats`), and the SQL both they and `/metrics` label jobs with."""
