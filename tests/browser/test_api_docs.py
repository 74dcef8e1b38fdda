"""The API docs render in a real browser under the server's own Content-Security-Policy."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Server

pytestmark = pytest.mark.browser


def test_api_docs_render_without_csp_violations(server: Server, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{server.url}/api/v1/docs")
    try:
        page.wait_for_selector(".opblock", timeout=30_000)
    except Exception as exc:
        raise AssertionError([problems, page.inner_text("body")[:1500]]) from exc
    assert page.locator(".opblock").count() > 20
    assert page.get_by_text("Authorize").count() >= 1  # the declared security schemes
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    context.close()
