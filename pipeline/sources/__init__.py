"""Bytes -> WireItem. One module per format; ``registry`` sniffs and dispatches."""
