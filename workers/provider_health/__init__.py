"""Provider health: each hosted provider's circuit breaker, shared by every process.

`models` is its row, `circuit` reads and writes it (flushing only), `outcomes` is the entry
point workers and the poller call after each provider call (it owns its transaction).
"""
