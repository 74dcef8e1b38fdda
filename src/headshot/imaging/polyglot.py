"""Other data riding inside an image file (a polyglot): an attached ZIP archive, or web-page or
script text that would run if the file were ever opened as something other than a picture.

Compressed pixel data is close to random bytes, so short signatures turn up in it by chance: a
bare `<svg` is found in about 1 % of 4.4 MB camera JPEGs and in rendered headshots. A signature
therefore counts only as the start of a tag followed by a separator and a run of `TEXT_RUN`
printable bytes, which random bytes produce about once in 10^7 files of that size.
`docs/validation.md` gives the measured false-positive rate.
"""

from __future__ import annotations

import re

TEXT_RUN = 8
_TAGS = {
    b"script": "a script",
    b"svg": "an SVG drawing",
    b"html": "a web page",
    b"?php": "PHP code",
    b"!doctype": "a web page",
}
_ACTIVE = re.compile(
    rb"<(script|svg|html|\?php|!doctype(?=\s+html))[\s>/][\t\n\r\x20-\x7e]{%d}" % TEXT_RUN,
    re.IGNORECASE,
)
_ZIP_END = b"PK\x05\x06"
_ZIP_END_SIZE = 22
_ZIP_SEARCH = 65_535 + _ZIP_END_SIZE  # the record's comment is at most 65535 bytes


def foreign_content(data: bytes) -> str | None:
    """A plain sentence naming what else the file holds and where, or None for a plain image."""
    archive_at = _zip_archive_end(data)
    if archive_at is not None:
        return f"a ZIP archive attached to the photo (ending at byte {archive_at:,})"
    match = _ACTIVE.search(data)
    if match is not None:
        what = _TAGS[match.group(1).lower()]
        return f"text of {what} (starting at byte {match.start():,})"
    return None


def _zip_archive_end(data: bytes) -> int | None:
    # A ZIP appended to an image ends with its end-of-central-directory record, whose comment
    # length must reach exactly to the end of the file: a check random pixel data cannot pass.
    at = data.rfind(_ZIP_END, max(0, len(data) - _ZIP_SEARCH))
    if at < 0 or at + _ZIP_END_SIZE > len(data):
        return None
    comment_length = int.from_bytes(data[at + 20 : at + 22], "little")
    return at if at + _ZIP_END_SIZE + comment_length == len(data) else None
