"""Reference data that the dbt seeds are generated from, where a rule is clearer than a list."""
