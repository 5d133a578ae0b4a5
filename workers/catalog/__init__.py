"""The model catalog: which models exist, what input each takes, and how to run them."""
