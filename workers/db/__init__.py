"""Database plumbing: the declarative base, one engine per process, session scopes."""
