"""API keys: who a caller is, and the limits that come with the key.

`tokens` makes and hashes keys, `models` is their row, `service` creates, lists, updates,
revokes and authenticates them, `ratelimit` is the per-key request rate, `cli` the
`abstrakt-queue keys` commands. A key is shown once and stored only as a hash.
"""
