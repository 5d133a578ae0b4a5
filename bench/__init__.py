"""`python -m bench`: the system's figures beside bare Celery's, measured in the same run."""
