"""Domain logic: plain Python, no FastAPI."""
