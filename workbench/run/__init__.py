"""`workbench run`: one medallion layer through dbt build, locked, logged, recorded, measured."""
