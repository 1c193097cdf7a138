"""Pure merge logic: canonical choice, member roles, provenance. No I/O."""
