"""Alembic migrations; shipped inside the distribution so `abstrakt-queue migrate` finds them."""
