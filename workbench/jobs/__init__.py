"""Commands that chain features: a layer's dbt build and the work that follows it."""
