"""hashpin: keep pip requirements files pinned and hash-locked."""

__version__ = "0.2.0"
