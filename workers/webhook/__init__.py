"""Webhooks out: a job's events, and a batch's end, POSTed to the URL its request (or its
key) names, signed as the Standard Webhooks specification says.

`events` names the events, `subscription` decides a new job's or batch's URL and events,
`ssrf` which URLs may be called, `signing` and `secrets` the `whsec_` secrets and
signatures, `enqueue` the delivery rows made in a job's own transaction (from `job_ended`
and `append_event`) or in the one that ends a batch (from `batch.release`),
`deliveries` the only writer of those rows, `schedule` the retry delays, `http` one attempt
over the network, `send` one delivery task from claim to record, `sweeper` the due retries
beat picks up, `reader` the delivery log, `service` redelivery, `tasks` the Celery tasks
(`webhooks` queue).
"""
