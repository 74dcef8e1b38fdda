"""fal's Platform API for keys (FAL.md §7.3), as the double answers it: `POST /v1/keys` with an
ADMIN key makes an API key that works at once; `DELETE /v1/keys/{key_id}` (idempotent, 204)
makes it stop working at once."""

from __future__ import annotations

import re
import secrets

from tests.fal_double.core import DoubleCore
from tests.fal_double.wire import Incoming, Reply


def create_key(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc, admin=True):
        return refusal
    body = inc.json()
    alias = body.get("alias") if isinstance(body, dict) else None
    if not isinstance(alias, str) or not 1 <= len(alias) <= 255:
        return Reply.of(422, {"detail": [{"loc": ["body", "alias"], "type": "string_type"}]})
    key_id, secret = core.new_id(), secrets.token_hex(16)
    key = f"{key_id}:{secret}"
    with core.lock:
        core.keys[key] = "API"
        core.created_keys.append(alias)
    return Reply.of(201, {"key_id": key_id, "key_secret": secret, "key": key})


def delete_key(core: DoubleCore, inc: Incoming, match: re.Match[str]) -> Reply:
    if refusal := core.auth(inc, admin=True):
        return refusal
    with core.lock:
        for key in [k for k in core.keys if k.partition(":")[0] == match["id"]]:
            del core.keys[key]
            core.deleted_keys.append(match["id"])
    return Reply(204, b"", {})
