"""Compile the MinHash kernels into numba's on-disk cache (``python -m
pipeline.dedup.warm``), so the first task or batch that signs articles loads them instead of
compiling them."""

import sys

from pipeline.dedup.minhash import warm_up

if __name__ == "__main__":  # pragma: no cover
    print(f"newsdedup: MinHash kernels ready in {warm_up():.1f}s", file=sys.stderr)
