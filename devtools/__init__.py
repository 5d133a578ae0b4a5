"""Helpers shared by the tests and the benchmark; development only, not in the wheel."""
