"""`workbench serve` over real HTTP against real PostgreSQL."""
