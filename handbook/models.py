"""Models of the handbook app."""
