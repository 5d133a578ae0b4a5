"""Pre-generation: a list of common prompts kept fresh in the shared cache on a schedule."""
