"""The job feature. Where things happen, by name:

- `producer`: the one way in (submit, cancel) for the API, the CLI and Python callers;
- `state/`: every write of job rows; `state/transitions` is the only writer of `status`
  and `submit_state`, `state/ended` the one reaction to a job finishing, `state/phases`
  the only writer of phase rows;
- `run/`: where an attempt runs (local, hosted submit, poller, finalize, sweeper);
- `messages`: every Celery message about a job, sent after its transaction commits;
- `tasks`: the Celery tasks, thin; `models`, `schemas`, `repository`, `reader`: rows,
  API shapes, queries, the public view.
"""
