"""abstrakt-queue's domain: job model, catalog, providers, storage, Celery tasks.

`api/` imports this package; nothing here imports `api/`.
"""
