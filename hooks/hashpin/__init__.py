"""hashpin: keep pip requirements files pinned and hash-locked."""

__version__ = "0.1.0"
