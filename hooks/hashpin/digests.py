"""What a well-formed digest is: the one test every digest passes before it reaches a file.

Pure and cheap to import. An index, a cache entry or a URL fragment is untrusted text;
only lowercase hex of exactly its algorithm's length can be written as ``--hash``, so
nothing else (a newline, a U+2028, an option) can ride along into a requirements file.
"""

from __future__ import annotations

import re

# hex digits per hashlib name, for every algorithm an index or a URL fragment may name
DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
WRITABLE_ALGORITHMS = ("sha256", "sha384", "sha512")  # what pip's --hash accepts

_LOWER_HEX = re.compile(r"[0-9a-f]+")


def is_digest(algorithm: str, value: str) -> bool:
    """Whether ``value`` is lowercase hex of exactly ``algorithm``'s length."""
    length = DIGEST_LENGTHS.get(algorithm)
    return length is not None and len(value) == length and _LOWER_HEX.fullmatch(value) is not None


def is_writable_hash(option_value: str) -> bool:
    """Whether ``algorithm:hexdigest`` may be written as a ``--hash`` value."""
    algorithm, _, value = option_value.partition(":")
    return algorithm in WRITABLE_ALGORITHMS and is_digest(algorithm, value)
