"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        await asyncio.sleep(0)
        return "250 OK"

    def to(self, address: str, *, route: str = "") -> list[Any]:
        """Mails to `address`; with `route`, only those with a `/#/<route>?token=` link."""
        return [m for m in self.messages if m["To"] == address and f"/#/{route}?token=" in _text(m)]

    def link_token(self, address: str, route: str) -> str:
        """The token of the last mailed `/#/<route>?token=` link to `address`."""
        mails = self.to(address, route=route)
        assert mails, f"no {route} mail to {address}"
        found = re.search(rf"/#/{route}\?token=(\S+)", _text(mails[-1]))
        assert found
        return found.group(1)


def _text(message: Any) -> str:
    return str(message.get_payload(decode=True).decode())


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with socket.socket() as probe:  # a free port (the controller cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
