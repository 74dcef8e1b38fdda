"""Web Push for the installed app (RFC 8030 with VAPID, RFC 8292, and aes128gcm payload
encryption, RFC 8291) through `pywebpush`.

People register their browsers' subscriptions; `notify` sends to each of a person's browsers and
never raises: a subscription the push service says is gone (404/410) is dropped, any other
failure is logged. Endpoints must point at a known push service (`HEADSHOT_PUSH_HOSTS`), over
https, so a subscription cannot make the server post to an arbitrary address."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from py_vapid import Vapid02
from sqlalchemy import delete, select

from headshot.domain.errors import InvalidInputError
from headshot.domain.models import Principal
from headshot.storage.db import Database
from headshot.storage.records import PushSubscription
from headshot.storage.scope import OwnerScope
from headshot.storage.vapid import application_server_key

log = logging.getLogger(__name__)
GONE = frozenset({404, 410})
TTL_S = 24 * 3600


class WebPush:
    def __init__(
        self,
        *,
        db: Database,
        vapid: Vapid02,
        subject: str,
        allowed_hosts: Sequence[str],
        clock: Callable[[], datetime],
        timeout_s: float = 10.0,
    ) -> None:
        self._db = db
        self._vapid = vapid
        self._subject = subject
        self._hosts = tuple(host.lower().strip(".") for host in allowed_hosts)
        self._clock = clock
        self._timeout_s = timeout_s

    def public_key(self) -> str:
        return application_server_key(self._vapid)

    def subscribe(self, principal: Principal, *, endpoint: str, p256dh: str, auth: str) -> str:
        """Store a browser's subscription for this person (a browser moves to whoever signed
        in last); returns its id."""
        self._check_endpoint(endpoint)
        _check_key(p256dh, length=65, name="p256dh")
        _check_key(auth, length=16, name="auth")
        with self._db.transaction() as db:
            db.execute(delete(PushSubscription).where(PushSubscription.endpoint == endpoint))
            row = PushSubscription(
                user_id=principal.user_id,
                endpoint=endpoint,
                p256dh=p256dh,
                auth=auth,
                created_at=self._clock(),
            )
            db.add(row)
            db.flush()
            return row.id

    def unsubscribe(self, principal: Principal, subscription_id: str) -> None:
        with self._db.transaction() as db:
            db.delete(OwnerScope(db, principal.user_id).get(PushSubscription, subscription_id))

    def notify(self, user_id: str, *, title: str, body: str) -> int:
        """Send to each of the person's browsers; how many push services took the message."""
        with self._db.transaction() as db:
            query = select(PushSubscription).where(PushSubscription.user_id == user_id)
            targets = [(s.id, s.endpoint, s.p256dh, s.auth) for s in db.scalars(query)]
        payload = json.dumps({"title": title, "body": body})
        delivered = 0
        for target in targets:
            delivered += self._send(target, payload)
        return delivered

    def _send(self, target: tuple[str, str, str, str], data: str) -> int:
        # Imported on first send: pywebpush brings requests and its HTTP stack (~15 MB) into
        # every server process, most of which never send a push.
        from pywebpush import WebPushException, webpush

        subscription_id, endpoint, p256dh, auth = target
        try:
            webpush(
                {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
                data=data,
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self._subject},  # pywebpush adds aud and exp to it
                ttl=TTL_S,
                timeout=self._timeout_s,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in GONE:
                self._drop(subscription_id)
                return 0
            log.warning("a push service refused a notice (status %s)", status)
            return 0
        except Exception:  # a push that cannot be delivered never reaches the job
            log.warning("could not send a push notice", exc_info=True)
            return 0
        return 1

    def _drop(self, subscription_id: str) -> None:
        with self._db.transaction() as db:
            db.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))

    def _check_endpoint(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        known = any(host == h or host.endswith(f".{h}") for h in self._hosts)
        secure = parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))
        if not (known and secure) or len(endpoint) > 1000:
            raise InvalidInputError(
                "That push subscription does not point at a known push service.",
                code="push_endpoint",
            )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _check_key(value: str, *, length: int, name: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != length:
        raise InvalidInputError(f"The subscription's {name} key is malformed.", code="push_keys")
