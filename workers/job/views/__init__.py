"""Other shapes of the same jobs: read-only translations between a foreign vocabulary and
ours (no writes; submitting still goes through `workers.job.producer`)."""
