"""What `GET /metrics` exposes, computed from the database (and the broker) at scrape time.

The rows are the truth, so every API process computes the same figures whatever process
(worker, poller, API) wrote them, on one host or several: nothing is kept in the processes
that do the work. See `totals.py` for how the counters stay cheap on a large table.
"""
