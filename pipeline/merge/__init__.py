"""Pure merge logic: the version rules, canonical choice, member roles, the merged record
and its provenance. No I/O."""
