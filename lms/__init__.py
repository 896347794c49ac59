"""REST modules of the learning platform, one package per domain."""
