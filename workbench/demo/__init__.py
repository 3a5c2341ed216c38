"""`workbench demo`: the whole pipeline on a laptop."""
