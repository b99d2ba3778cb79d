"""One module per model family; each exposes ``SPECS``."""
