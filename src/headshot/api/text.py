"""One rule for every piece of text that enters through HTTP: no control characters.

PostgreSQL cannot store NUL in a text column (the driver raises and the request would end in a
500), lone surrogates cannot be encoded as UTF-8, and other control characters only ever carry
terminal escapes or hidden text. Tab, line feed and carriage return stay allowed.

`refuse_control_characters` is an app-wide dependency that applies the check to every path
parameter, query parameter and JSON body (keys and values at any depth), so a field or route
added later is covered without anyone remembering to annotate it.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from headshot.domain.errors import InvalidInputError

ALLOWED_CONTROLS = frozenset("\t\n\r")
PROBLEM = "control characters (such as NUL) are not allowed"


def has_control_characters(value: str) -> bool:
    """True for C0/C1 controls (except tab and newlines), DEL and lone surrogates."""
    return any(
        unicodedata.category(char) in ("Cc", "Cs") and char not in ALLOWED_CONTROLS
        for char in value
    )


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in decoded JSON, keys included, with a dotted path to it."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.{key}" if where else str(key), str(key)
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}.{index}" if where else str(index))


async def refuse_control_characters(request: Request) -> None:
    """Refuse the request with 422 when any parameter or JSON body text has a control character."""
    places: list[tuple[str, str]] = [*request.path_params.items()]
    places += [(name, value) for name, value in request.query_params.multi_items()]
    places += [(name, name) for name in request.query_params]
    route = request.scope.get("route")
    # Only a body FastAPI has already read for the route; uploads and webhooks read their own.
    if isinstance(route, APIRoute) and route.body_field is not None and _is_json(request):
        places += list(_strings(await _json(request), ""))
    bad = [where for where, text in places if has_control_characters(text)]
    if bad:
        shown = _printable(bad[0]) or "the request"
        raise InvalidInputError(
            f"Please check {shown}: {PROBLEM}.",
            code="invalid_input",
            details={"fields": [{"field": _printable(b), "problem": PROBLEM} for b in bad]},
        )


def _printable(where: str) -> str:
    # The offending name itself may hold the control characters; never echo them back.
    return "".join(char if not has_control_characters(char) else "?" for char in where)


def _is_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:  # FastAPI answers malformed JSON itself
        return None
