"""Providers' callbacks in: the per-job URL we hand a provider, and what a call to it does."""
