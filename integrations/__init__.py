"""Everything that talks to an outside system: one package per vendor, plus the sandbox."""
