"""Handing memory back between stages.

A stage's peak is its own working set plus what earlier stages left behind. CPython frees
objects to the C allocator, which keeps the pages for reuse: after a big stage the process
stays at that stage's high-water mark, and fragmentation makes each batch's mark a little
higher than the last. Trimming the allocator between stages returns the free pages, so a
long run's memory follows its current batch instead of its history.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools


@functools.cache
def _trim():
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    with contextlib.suppress(OSError, AttributeError):
        name = ctypes.util.find_library("c")
        if name:
            fn = ctypes.CDLL(name).malloc_trim
            fn.argtypes = [ctypes.c_size_t]
            fn.restype = ctypes.c_int
            return fn
    return None


def give_back() -> bool:
    """Return the allocator's free pages to the OS; whether anything could be asked."""
    fn = _trim()
    if fn is None:
        return False
    fn(0)
    return True
