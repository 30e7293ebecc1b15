"""PyTunes: a self-hosted Discord community bot."""

__version__ = "0.1.0"
