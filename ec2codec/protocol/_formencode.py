"""``application/x-www-form-urlencoded`` exactly as botocore's ``urlencode`` spells a query body.

Owns the percent-encoding of keys and values (``urllib.parse.quote_plus`` on
their UTF-8 bytes: the unreserved bytes ``A-Z a-z 0-9 _ . - ~`` stay, space
becomes "+", every other byte "%XX" with upper-case hex), for one value
(:func:`quote`) and for all the values of a request at once
(:func:`quote_joined`), which is what the encoder's fast path uses: the values
joined by SOH are percent-encoded by a few C-level passes over the whole body
instead of value by value.
"""

from __future__ import annotations

import re
from bisect import bisect_left

__all__ = ["SOH", "needs_quoting", "quote", "quote_joined"]

# The encoder joins the values of a request with SOH; a value that holds SOH
# itself makes quote_joined give up, and the request goes value by value.
SOH = "\x01"

needs_quoting = re.compile(r"[^A-Za-z0-9_.~-]").search
_FIND_UNSAFE = re.compile(rb"[^A-Za-z0-9_.~\x01-]").search  # SOH is left alone

_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_ALL_BYTES = bytes(range(256))
_UNSAFE = _ALL_BYTES.translate(None, _SAFE)
_ESCAPE = [b"+" if b == 0x20 else b"%%%02X" % b for b in range(256)]
# (byte, escape) for the unsafe bytes but SOH, "%" and "+", which quote_joined treats apart.
_REPLACEMENT = {b: (bytes([b]), _ESCAPE[b]) for b in _UNSAFE.translate(None, b"\x01%+")}
# Those bytes below 0x80 (with and without space), and the bytes of non-ASCII characters.
_ASCII_UNSAFE = bytes(b for b in _REPLACEMENT if b < 0x80)
_ASCII_BUT_SPACE = _ASCII_UNSAFE.translate(None, b" ")
_HIGH = _ALL_BYTES[0x80:]
# The same as a str.translate table over code points 0-255 (for single values).
_QUOTE_TABLE = [_ESCAPE[b].decode() if b in _UNSAFE else chr(b) for b in range(256)]
# _escape_high's case swap: every ASCII letter to the other case, but "x" and "X"
# to the control bytes STX and ETX; and back, with backslashes to "%" and spaces to "+".
_LOWER = b"abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_HIDE = bytes.maketrans(_LOWER + _UPPER, _UPPER.replace(b"X", b"\x02") + _LOWER.replace(b"x", b"\x03"))
_SHOW = bytes.maketrans(_LOWER + _UPPER + b"\x02\x03\\ ", _UPPER + _LOWER + b"xX%+")


def quote(text: str) -> str:
    """quote_plus(text): non-ASCII text is translated as its UTF-8 bytes spelled in latin-1."""
    if not needs_quoting(text):
        return text
    if not text.isascii():
        text = text.encode("utf-8").decode("latin-1")
    return text.translate(_QUOTE_TABLE)


def quote_joined(data: bytes, count: int) -> list[str] | None:
    """quote_plus of each of ``count`` values, given UTF-8 and joined by SOH (None if a value holds SOH).

    Each unsafe ASCII byte value present is replaced in one ``bytes.replace``
    pass: "%" first (the escapes add more) and "+" before space (which becomes
    "+"). The non-ASCII bytes get a pass each as well when only a few distinct
    ones occur, else all go through :func:`_escape_high` at once (text in other
    scripts brings many: "Zoë", "インフラ" and "🚀" are 11 distinct bytes). The
    SOH separators are left alone and split on at the end, which also shows
    whether a value held one.
    """
    if not data.isascii() or _FIND_UNSAFE(data):
        # The byte values that do not occur (a deletion, cheaper than a set of those
        # that do), sorted: those below 0x80 first.
        absent = _ALL_BYTES.translate(None, data)
        ascii_end = bisect_left(absent, 0x80)
        if 0x25 not in absent:
            data = data.replace(b"%", b"%25")
        if 0x2B not in absent:
            data = data.replace(b"+", b"%2B")
        high = _escape_high_pays(128 - len(absent) + ascii_end, len(data))
        ascii_unsafe = _ASCII_BUT_SPACE if high else _ASCII_UNSAFE
        for old, new in map(_REPLACEMENT.__getitem__, ascii_unsafe.translate(None, absent[:ascii_end])):
            data = data.replace(old, new)
        if high:
            data = _escape_high(data)  # and spaces to "+"
        else:
            for old, new in map(_REPLACEMENT.__getitem__, _HIGH.translate(None, absent[ascii_end:])):
                data = data.replace(old, new)
    quoted = data.decode("ascii").split(SOH)
    return quoted if len(quoted) == count else None


def _escape_high_pays(distinct: int, size: int) -> bool:
    # Whether _escape_high beats one replace pass per distinct non-ASCII byte on
    # a size-byte body. Measured (CPython 3.11): a pass costs about 100 ns plus a
    # nanosecond per 28 bytes, _escape_high about 450 ns plus 1.6 ns per byte,
    # so it pays from about 12 distinct bytes on a 500-byte body, 34 on 7 KB.
    return distinct * (size + 2800) > 45 * size + 12600


def _escape_high(data: bytes) -> bytes:
    """``data`` with every byte 0x80-0xFF spelled "%XX" and every space "+", in four C-level passes.

    The "backslashreplace" error handler of the ASCII encoder spells each
    non-ASCII code point of a latin-1 decoded byte string "\\xhh": the byte's
    escape but for the backslash and its lower-case hex digits. So the letters
    of ``data`` are first swapped to the other case (and "x", "X" set aside as
    STX and ETX), and swapped back afterwards, which upper-cases the digits,
    while each escape's "x" is deleted and its backslash turned into "%".
    ``data`` must hold no "+", backslash, STX or ETX (quote_joined's passes have
    escaped them).
    """
    return data.translate(_HIDE).decode("latin-1").encode("ascii", "backslashreplace").translate(_SHOW, b"x")
