"""Platinum's embeddings: providers, pgvector storage, `workbench embed` and `workbench search`."""
