"""Send logs: the pipeline every message takes, and the console that explains failures."""
