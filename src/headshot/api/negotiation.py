"""Reading `Accept` and `Accept-Encoding` headers: which representation a client prefers."""

from __future__ import annotations


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether the client takes gzip (`gzip` or `*` with a quality above zero)."""
    for name, quality in _ranges(accept_encoding):
        if name in ("gzip", "*"):
            return quality > 0
    return False


def prefers_html(accept: str) -> bool:
    """True when `text/html` ranks above `application/json` in an Accept header."""
    html_q = json_q = 0.0
    for media, quality in _ranges(accept):
        if media in ("text/html", "text/*"):
            html_q = max(html_q, quality if media == "text/html" else min(quality, 0.99))
        elif media in ("application/json", "application/*") or media == "*/*":
            json_q = max(json_q, quality)
    return html_q > json_q


def _ranges(header: str) -> list[tuple[str, float]]:
    """(name, quality) per comma-separated entry, names lower-cased."""
    ranges = []
    for part in header.lower().split(","):
        name, *params = (p.strip() for p in part.split(";"))
        ranges.append((name, _quality(params)))
    return ranges


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0
