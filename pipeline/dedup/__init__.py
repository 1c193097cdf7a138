"""Pure dedup algorithms: MinHash, LSH bands, verification, clustering. No I/O."""
