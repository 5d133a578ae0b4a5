"""Every write of job rows. Functions flush; whoever started the work commits.

- `transitions`: the one writer of `status` and `submit_state` (both machines drawn there);
- `ended`: the one place that reacts to a job finishing;
- `phases`: the one writer of phase rows; `events`: the per-job event log;
- `intake`: new jobs; `attempt`: an attempt's life on a worker; `hosted`: a hosted
  attempt's submission and polling; `cache`: cache hits, joined jobs, and settling.
"""
