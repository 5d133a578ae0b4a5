"""The result cache: canonical request → a finished job's result, with scope and TTL."""
