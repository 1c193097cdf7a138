"""Fill numba's on-disk cache with the MinHash kernels (``python -m pipeline.dedup.warm``),
so the first task or batch that signs articles loads them instead of compiling them."""

import sys
import time

from pipeline.dedup.minhash import warm_up

if __name__ == "__main__":  # pragma: no cover
    t0 = time.perf_counter()
    engine = warm_up()
    print(
        f"newsdedup: MinHash engine {engine} ready in {time.perf_counter() - t0:.1f}s",
        file=sys.stderr,
    )
