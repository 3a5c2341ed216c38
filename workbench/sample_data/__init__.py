"""Deterministic synthetic Scout Retail data: products, baskets of transactions, bad records,
injected anomalies with their ground truth, and the counts the pipeline must reproduce."""
