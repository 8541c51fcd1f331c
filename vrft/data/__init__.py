"""Data: the Sample schema, format loaders, mixtures, difficulty and synthetic tasks."""
