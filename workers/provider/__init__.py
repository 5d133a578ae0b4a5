"""Model providers. Each is a leaf: it knows its protocol, never the database or Celery."""
