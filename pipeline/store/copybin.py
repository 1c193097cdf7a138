"""PostgreSQL binary COPY payloads built with numpy, for fixed-width rows.

psycopg's ``write_row`` adapts each value in Python (about 5 us a row); band rows come
by the million, so a whole batch is laid out instead as one numpy structured array in the
wire format (big-endian fields, each prefixed by its byte length) and sent in one write.
Only fixed-width columns are supported: integers, timestamps, and text/bytea whose length
is the same for every row of the call.
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
