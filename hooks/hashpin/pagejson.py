"""The ``files`` of a PEP 691 page, decoded only as far as they are read.

pip reads a page with ``json.loads``, so what ``json.loads`` makes of a page is what the page
says. On a page of 50,000 files that costs tens of milliseconds, most of them spent building
dicts nobody reads. With msgspec installed, the page is still checked whole (msgspec refuses
any malformed JSON), but of each file only the name and URL are decoded; the other keys stay
raw JSON text until :meth:`FileEntries.entries` builds the dicts of the files asked for,
with ``json.loads``. msgspec refuses a few texts ``json.loads`` takes (``NaN``, a lone surrogate,
a byte-order mark, UTF-16): any page msgspec refuses is decoded by ``json.loads`` instead, so
both ways read every page alike. Imported only when a page is read.
"""

# No ``from __future__ import annotations``: msgspec reads the structs' annotations at run
# time, and ``X | Y`` there needs Python 3.10.
import json
from typing import Any, Optional, Union

# The keys simple.py reads from a file entry besides "filename" and "url", each with the
# attribute that holds it raw.
_RAW_KEYS = (
    (b"hashes", "hashes"),
    (b"requires-python", "requires_python"),
    (b"yanked", "yanked"),
    (b"core-metadata", "core_metadata"),
    (b"dist-info-metadata", "dist_info_metadata"),
    (b"size", "size"),
    (b"upload-time", "upload_time"),
)

try:
    import msgspec
except ImportError:  # not on this interpreter: json.loads alone
    _DECODER: Optional[Any] = None
    _DECODE_ERRORS: tuple[type[BaseException], ...] = ()
    _UNSET: object = object()
else:
    _Raw = Union[msgspec.Raw, msgspec.UnsetType]
    _UNSET = msgspec.UNSET

    # gc=False: strings and raw bytes only, no cycles; 50,000 of them are not worth tracking.
    class _Entry(msgspec.Struct, gc=False):
        filename: str
        url: str
        hashes: _Raw = msgspec.UNSET
        requires_python: _Raw = msgspec.field(default=msgspec.UNSET, name="requires-python")
        yanked: _Raw = msgspec.UNSET
        core_metadata: _Raw = msgspec.field(default=msgspec.UNSET, name="core-metadata")
        dist_info_metadata: _Raw = msgspec.field(default=msgspec.UNSET, name="dist-info-metadata")
        size: _Raw = msgspec.UNSET
        upload_time: _Raw = msgspec.field(default=msgspec.UNSET, name="upload-time")

    class _Page(msgspec.Struct):
        files: list[_Entry]
        meta: _Raw = msgspec.UNSET

    _DECODER = msgspec.json.Decoder(_Page)
    _DECODE_ERRORS = (msgspec.DecodeError, RecursionError)


class FileEntries:
    """The file entries of a page: every file's name (a string, never empty; its URL is a
    string too) and, built on demand, the dicts ``json.loads`` made of them."""

    __slots__ = ("_built", "_raw", "names")

    def __init__(
        self,
        names: list[str],
        built: Optional[list[dict[str, object]]],
        raw: Optional[list[Any]] = None,
    ) -> None:
        self.names = names
        self._built = built  # json.loads's entries, or None: built from msgspec's structs
        self._raw = raw

    def __len__(self) -> int:
        return len(self.names)

    def entries(self, positions: list[int]) -> list[dict[str, object]]:
        """The entries at ``positions``, in that order: what ``json.loads`` made of them."""
        if self._built is not None:
            return [self._built[position] for position in positions]
        items = [self._raw[position] for position in positions]  # type: ignore[index]
        # One json.loads for them all, of objects made of their raw values.
        objects = (
            b"{"
            + b",".join(
                b'"%s":%s' % (key, raw)
                for key, attribute in _RAW_KEYS
                if (raw := getattr(item, attribute)) is not _UNSET
            )
            + b"}"
            for item in items
        )
        built: list[dict[str, object]] = json.loads(b"[" + b",".join(objects) + b"]")
        for entry, item in zip(built, items):
            entry["filename"], entry["url"] = item.filename, item.url
        return built


def decode(body: Union[bytes, bytearray]) -> "tuple[object, FileEntries]":
    """The page's ``meta`` value (None when absent) and its file entries.

    ValueError (also UnicodeDecodeError, json.JSONDecodeError) for a text that is not
    JSON or not the shape of a page, its text saying what is wrong; RecursionError for
    one nested too deeply.
    """
    if _DECODER is not None and _utf8(body):
        try:
            page = _DECODER.decode(body)
        except _DECODE_ERRORS:
            pass  # json.loads says what it is (or reads what msgspec refuses)
        else:
            names = [item.filename for item in page.files]
            if "" not in names:
                meta = None if page.meta is _UNSET else json.loads(bytes(page.meta))
                return meta, FileEntries(names, None, page.files)
    return _decoded_by_json(json.loads(body))


def _utf8(body: Union[bytes, bytearray]) -> bool:
    """Whether ``body`` is UTF-8 as json.loads reads it (surrogates let through): msgspec
    checks only the strings it decodes, not those it passes over."""
    if body.isascii():
        return True
    try:
        body.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


def _decoded_by_json(data: object) -> "tuple[object, FileEntries]":
    from operator import itemgetter

    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    entries = data.get("files")
    if not isinstance(entries, list):
        raise ValueError("no 'files' list")
    # Checked at C speed, not by a Python loop over 50,000 entries, when all is well.
    if set(map(type, entries)) <= {dict}:
        try:
            names = list(map(itemgetter("filename"), entries))
            urls = list(map(itemgetter("url"), entries))
        except KeyError:
            pass
        else:
            if set(map(type, names)) | set(map(type, urls)) <= {str} and "" not in names:
                return data.get("meta"), FileEntries(names, entries)
    for position, entry in enumerate(entries):  # the first entry at fault, for the message
        if not isinstance(entry, dict):
            raise ValueError(f"file entry {position} is not an object")
        filename, url = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(url, str) or not filename:
            raise ValueError(f"file entry {position} lacks a string 'filename' or 'url'")
    raise AssertionError("unreachable: some entry above is at fault")
