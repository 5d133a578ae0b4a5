"""Batches: up to 1,000 job requests submitted at once, all or nothing.

A batch's items are validated together and stored with it; each becomes a job when it is
released. A batch keeps at most `BATCH_WINDOW` of its jobs queued or running: as one ends,
the next item is released in the same transaction (`release.py`, from `job_ended`). So a
large batch never fills the queue ahead of other keys' jobs or of other batches. The
transaction where the last item ends enqueues the batch's webhook, if it has one.
"""
