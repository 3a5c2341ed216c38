"""Raw landing: stream CSV / JSON Lines files into the `raw` schema (DESIGN §2-3)."""
