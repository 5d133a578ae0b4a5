"""The job feature: rows, state machine, producer, runner and tasks."""
