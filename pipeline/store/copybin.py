"""PostgreSQL binary COPY payloads built with numpy, for fixed-width rows.

psycopg's ``write_row`` adapts each value in Python (about 5 us a row); band rows come
by the million, so a whole batch is laid out instead as one numpy structured array in the
wire format (big-endian fields, each prefixed by its byte length) and sent in one write.
Only fixed-width columns are supported: integers, timestamps, and text/bytea/arrays whose
length is the same for every row of the call (``concat`` joins calls of different widths).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

_INT = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "timestamptz": ">i8"}


def timestamps_us(values: Sequence[datetime]) -> np.ndarray:
    """Microseconds since 2000-01-01 UTC, PostgreSQL's timestamptz on the wire."""
    return np.fromiter(((v - PG_EPOCH) // _US for v in values), dtype=np.int64, count=len(values))


_US = np.timedelta64(1, "us").astype(object)  # datetime.timedelta(microseconds=1)


def build(columns: Sequence[tuple[str, object]], n: int) -> bytes:
    """Binary COPY data for ``n`` rows. ``columns``: (type, values) per column, where type
    is int2/int4/int8/timestamptz (values: array-like or a scalar for every row) or
    ``bytes`` (values: an (n, width) uint8 array or one bytes value for every row)."""
    fields: list[tuple[str, str]] = [("nfields", ">i2")]
    fill: list[tuple[str, object]] = []
    for i, (kind, values) in enumerate(columns):
        fields.append((f"l{i}", ">i4"))
        if kind in _INT:
            fields.append((f"v{i}", _INT[kind]))
            width = np.dtype(_INT[kind]).itemsize
        elif kind == "bytes":
            if isinstance(values, bytes | bytearray):
                width = len(values)
                values = np.frombuffer(bytes(values), dtype=np.uint8)
            else:
                values = np.asarray(values, dtype=np.uint8)
                width = values.shape[1] if values.ndim == 2 else values.shape[0]
            fields.append((f"v{i}", "V" + str(width) if width else "V1"))
        else:
            raise ValueError(f"unsupported column type {kind}")
        fill.append((f"l{i}", width))
        fill.append((f"v{i}", values))
    rows = np.zeros(n, dtype=np.dtype(fields))
    rows["nfields"] = len(columns)
    for name, values in fill:
        if isinstance(values, np.ndarray) and values.dtype == np.uint8:
            # raw bytes: view the destination field as uint8 columns
            width = rows.dtype[name].itemsize
            offset = rows.dtype.fields[name][1]
            raw = rows.view(np.uint8).reshape(n, rows.dtype.itemsize)
            raw[:, offset : offset + width] = values if values.ndim == 2 else values[None, :]
        else:
            rows[name] = values
    return HEADER + rows.tobytes() + TRAILER


def int8_arrays(values: np.ndarray) -> np.ndarray:
    """(n, m) int64 values as n one-dimensional bigint[] fields of m elements each, on the
    wire: (n, 20 + 12 m) uint8, for a ``bytes`` column of ``build``."""
    values = np.asarray(values, dtype=np.int64)
    n, m = values.shape
    dt = np.dtype(
        [
            ("ndim", ">i4"),
            ("hasnull", ">i4"),
            ("elemtype", ">i4"),
            ("dim", ">i4"),
            ("lbound", ">i4"),
            ("el", [("len", ">i4"), ("v", ">i8")], (m,)),
        ]
    )
    out = np.zeros(n, dtype=dt)
    out["ndim"], out["elemtype"], out["dim"], out["lbound"] = 1, INT8_OID, m, 1
    out["el"]["len"] = 8
    out["el"]["v"] = values
    return out.view(np.uint8).reshape(n, dt.itemsize)


INT8_OID = 20


def concat(payloads: Sequence[bytes]) -> bytes:
    """One COPY payload of the rows of several ``build`` results."""
    return HEADER + b"".join(p[len(HEADER) : -len(TRAILER)] for p in payloads) + TRAILER
