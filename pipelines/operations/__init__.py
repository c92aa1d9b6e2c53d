"""Operating the pipeline: the CLI's run commands, the Dagster home, the run lock."""
