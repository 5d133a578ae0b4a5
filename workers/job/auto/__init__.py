"""`"model": "auto"`: the model chosen for a job from the latency recorded for such jobs."""
