"""Live progress: what a caller sees while a job runs.

The durable per-job log (`job_events`) is the truth a stream replays and resumes from; live
fan-out makes it immediate. Workers publish (`publish`): the log's new events after their
transaction commits, and progress estimates that are never written to the database. The
API follows (`hub`, `stream`): one hub per process fans out to every subscriber, and each
subscriber's stream replays, goes live, repairs gaps from the log, and ends with the job.
`messages` turns both into what the WebSocket and SSE clients receive.
"""
