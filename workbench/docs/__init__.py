"""dbt docs: generate the site (and the single-file static variant), publish it to S3."""
