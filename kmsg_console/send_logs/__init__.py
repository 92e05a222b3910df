"""Send logs: the console over the send log (lists, a message's page, report, export)."""
