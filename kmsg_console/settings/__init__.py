"""Console-wide settings an administrator changes (a small key-value store), such as the
duplicate-send window of the sending rules."""
