"""Pure text processing: normalisation, captions, article analysis. No I/O."""
