"""Where an attempt runs. Each module drives one kind of work and writes job state only
through `workers.job.state`:

- `local`: a local model's attempt, every phase on the worker;
- `submit`: a hosted attempt's submission (then the worker lets go);
- `poller`: follows jobs waiting at a provider, holding no worker;
- `finalize`: fetches, re-encodes and stores a hosted job's output;
- `sweeper`: re-sends jobs whose message went missing;
- `heartbeat`, `timing`, `output`, `crash`: what those share.
"""


class AttemptLost(Exception):
    """The job was canceled or taken over while this attempt ran; stop quietly."""
