"""`workbench serve`: records over HTTP into raw landing, and bronze that follows them."""
