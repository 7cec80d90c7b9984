"""Customer Success Pipelines: the core package (settings, CLI, warehouse connection)."""
