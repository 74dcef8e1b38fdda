"""Telling a person something by email (the inactivity warning). Without a mail server the notice
is recorded instead, so the operator can see who was due one."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)


class Notifier(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> bool:
        """True when the message was handed to a mail server."""
        ...


class LogNotifier:
    """No mail server configured: log that a notice was due (never the address itself)."""

    def send(self, *, to: str, subject: str, body: str) -> bool:  # noqa: ARG002 (the protocol's)
        log.warning("no mail server configured; notice not sent: %s", subject)
        return False


class SmtpNotifier:
    """`smtp://user:password@host:port` (STARTTLS when the server offers it, required with
    `?starttls=required`) or `smtps://…` (TLS from the start)."""

    def __init__(self, url: str, *, sender: str, timeout_s: float = 20.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("HEADSHOT_SMTP_URL must look like smtp://user:password@host:port")
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 587)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._require_starttls = "starttls=required" in parts.query
        self._sender = sender
        self._timeout_s = timeout_s

    def send(self, *, to: str, subject: str, body: str) -> bool:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._sender, to, subject
        message.set_content(body)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self._tls:
            smtp = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout_s, context=context
            )
        else:
            smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
        with smtp:
            if not self._tls:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif self._require_starttls:
                    raise ConnectionError("the mail server does not offer STARTTLS")
            if self._user is not None:
                smtp.login(self._user, self._password or "")
            smtp.send_message(message)
        return True
