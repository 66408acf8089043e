"""hashpin: keep pip requirements files pinned and hash-locked."""

__version__ = "0.4.1"
