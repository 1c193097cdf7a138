"""Bytes -> WireItem. One module per format; ``registry`` sniffs and dispatches,
``prepare`` parses and analyses a payload, ``collect`` reads folders and feeds."""
