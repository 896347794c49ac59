"""HTTP plumbing shared by every module: problems, health, metrics, logging, limits."""
