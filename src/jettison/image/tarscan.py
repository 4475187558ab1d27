"""A fast tar header scanner: ustar, GNU (long names, base-256 numbers) and PAX headers.

Only headers are decoded; file data is skipped by offset, so scanning costs one header
parse per entry (several times faster than ``tarfile``), and a file's content can be read
later through its recorded ``offset``. Checksums are verified so a corrupt or non-tar
input fails with one clear error instead of nonsense numbers.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple
from zlib import adler32

from jettison.image.blob import Window
from jettison.image.errors import CorruptImageError

BLOCK = 512
_READAHEAD = 1 << 16
_ZERO = bytes(BLOCK)
# name, the numbers (mode uid gid size mtime chksum), typeflag, linkname, magic (+version,
# uname, gname, devmajor, devminor skipped), prefix (+12 bytes padding): one C call splits
# a header, a second the numbers once their NULs are spaces (which int() skips: one call
# each instead of an rstrip and an int)
_HEADER = struct.Struct("100s56sc100s6s82x155s12x")
_NUMBERS = struct.Struct("8s8s8s12s12s8s")
_NUL_AS_SPACE = bytes.maketrans(b"\0", b" ")

REG, LINK, SYMLINK, DIR, OTHER = "0", "1", "2", "5", "?"
_TYPES = {  # by the typeflag byte
    b"0": REG,
    b"\0": REG,
    b"7": REG,
    b"1": LINK,
    b"2": SYMLINK,
    b"5": DIR,
    b"3": OTHER,
    b"4": OTHER,
    b"6": OTHER,
    b"S": REG,
}
_META = frozenset((b"L", b"K", b"x", b"g"))  # GNU long name/link, PAX, global PAX


class TarEntry(NamedTuple):
    """One member: path as stored, normalised type, sizes and where its data starts.

    A named tuple: the scanner makes one per member through ``tuple.__new__`` (no Python
    call), and fields read as fast as slots.
    """

    name: str
    type: str
    size: int
    mode: int
    uid: int
    gid: int
    mtime: int
    linkname: str
    offset: int

    def __repr__(self) -> str:
        return f"<TarEntry {self.type} {self.name!r} {self.size}>"


_new_entry = tuple.__new__


def _num(field: bytes, what: str) -> int:
    try:  # the common case: octal digits padded with NUL or space
        return int(field.rstrip(b"\0 ") or b"0", 8)
    except ValueError:
        pass
    if field and field[0] & 0x80:  # GNU base-256 for values that do not fit in octal
        value = int.from_bytes(field[1:], "big")
        if field[0] & 0x40:
            value -= 1 << (8 * (len(field) - 1) + 6)
        return value
    # NUL-ended (a C string), padding on either side skipped as the fast path and Go's
    # archive/tar skip it
    text = field.lstrip(b"\0 ").split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise CorruptImageError(f"corrupt tar header: bad {what} field {text[:20]!r}") from None


def _str(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise CorruptImageError("corrupt PAX header") from None
        if length <= 0:
            raise CorruptImageError("corrupt PAX header")
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


def scan(window: Window, what: str = "layer") -> Iterator[TarEntry]:
    """Yield the members of the tar in ``window`` in archive order."""
    pos = 0
    end = window.length
    mapped = window.mapped()
    if mapped is not None:  # a complete spool: headers sliced from its map, no readahead
        buf, buf_at = mapped
        buf_at = -buf_at
        buf_end = buf_at + len(buf)
    else:
        buf, buf_at, buf_end = b"", 0, 0
    long_name: str | None = None
    long_link: str | None = None
    pax: dict[str, str] = {}
    unpack_header = _HEADER.unpack
    unpack_numbers = _NUMBERS.unpack
    while True:
        if pos + BLOCK > end:
            if pos < end and window.pread(pos, end - pos).strip(b"\0"):
                raise CorruptImageError(f"truncated {what} tar: partial header at {pos}")
            return
        rel = pos - buf_at
        if rel < 0 or pos + BLOCK > buf_end:
            buf = window.pread(pos, _READAHEAD)
            buf_at, buf_end = pos, pos + len(buf)
            rel = 0
            if len(buf) < BLOCK:
                raise CorruptImageError(f"truncated {what} tar at offset {pos}")
        block = buf[rel : rel + BLOCK]
        if block == _ZERO:
            return  # end-of-archive marker
        name_f, numbers_f, flag, link_f, magic, prefix_f = unpack_header(block)
        try:  # octal padded with NUL or space: everything but GNU base-256 and damage
            mode_f, uid_f, gid_f, size_f, mtime_f, check_f = unpack_numbers(
                numbers_f.translate(_NUL_AS_SPACE)
            )
            stored = int(check_f, 8)
            size = int(size_f, 8)
            mode = int(mode_f, 8)
            uid = int(uid_f, 8)
            gid = int(gid_f, 8)
            mtime = int(mtime_f, 8)
        except ValueError:  # (as stored: base-256 bytes are not to be translated)
            mode_f, uid_f, gid_f, size_f, mtime_f, check_f = unpack_numbers(numbers_f)
            stored = _num(check_f, "checksum")
            size = _num(size_f, "size")
            mode = _num(mode_f, "mode")
            uid = _num(uid_f, "uid")
            gid = _num(gid_f, "gid")
            mtime = _num(mtime_f, "mtime")
        # adler32's low half is 1 + the byte sum mod 65521, computed in C; a header sums to
        # under 2 * 65521, so the true sum is one of two candidates (a 1-in-65521 blind spot
        # for damage, against a pure-Python sum over every header). The checksum field
        # itself (8 bytes, summing far below 65521) counts as spaces: take its sum out.
        byte_sum = (adler32(block) & 0xFFFF) - (adler32(numbers_f[48:]) & 0xFFFF) + 256
        if stored != byte_sum and stored != byte_sum + 65521:
            # some old writers sum signed chars
            signed = (
                256
                + sum(b - 256 if b > 127 else b for b in block[:148])
                + sum(b - 256 if b > 127 else b for b in block[156:])
            )
            if stored != signed:
                raise CorruptImageError(
                    f"corrupt {what} tar: bad header checksum at "
                    f"offset {pos} (not a tar, or damaged)"
                )
        data_at = pos + BLOCK
        pos = data_at + ((size + BLOCK - 1) // BLOCK) * BLOCK
        if pos > end:
            raise CorruptImageError(f"truncated {what} tar: member data runs past the end")
        if flag in _META:
            data = window.read_exact(data_at, size, f"{what} tar header")
            if flag == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif flag == b"K":
                long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif flag == b"x":
                pax = _pax(data)
            continue  # global PAX headers carry nothing a layer needs
        if long_name is not None:
            name = long_name
        else:
            name = name_f.partition(b"\0")[0].decode("utf-8", "surrogateescape")
            if magic == b"ustar\x00" and prefix_f[0]:
                name = _str(prefix_f) + "/" + name
        linkname = _str(link_f) if link_f[0] else ""
        if long_link is not None:
            linkname = long_link
        if pax:
            name = pax.get("path", name)
            linkname = pax.get("linkpath", linkname)
            if "size" in pax:
                size = int(pax["size"])
                pos = data_at + ((size + BLOCK - 1) // BLOCK) * BLOCK
            uid = int(pax.get("uid", uid))
            gid = int(pax.get("gid", gid))
            if "mtime" in pax:
                mtime = int(float(pax["mtime"]))
            pax = {}
        long_name = long_link = None
        type_ = _TYPES.get(flag, OTHER)
        if type_ == REG and name.endswith("/"):
            type_ = DIR  # old tars mark directories by a trailing slash only
        yield _new_entry(
            TarEntry,
            (
                name,
                type_,
                size if type_ == REG else 0,
                mode & 0o7777,
                uid,
                gid,
                mtime,
                linkname,
                data_at,
            ),
        )
