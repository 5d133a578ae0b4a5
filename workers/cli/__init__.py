"""The `abstrakt-queue` command."""
