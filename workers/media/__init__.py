"""Real media on the CPU: rendering (the local provider's "model"), encoding and probing."""
