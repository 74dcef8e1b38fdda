"""The API docs page works under our CSP, and the OpenAPI document says how to authenticate."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from headshot.api.app import create_asgi_app
from headshot.api.middleware import DEFAULT_CSP
from headshot.services.container import Services

API = "/api/v1"


def test_docs_page_has_no_inline_script_and_keeps_the_csp(services: Services) -> None:
    with TestClient(create_asgi_app(services), base_url="https://testserver") as client:
        _check_docs_page(client)


def _check_docs_page(client: TestClient) -> None:
    page = client.get(f"{API}/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == DEFAULT_CSP
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page.text, re.S)
    assert scripts and all(body.strip() == "" for body in scripts)
    assert "http" not in page.text  # nothing from another origin
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        asset = client.get(f"{API}/{src}")
        assert asset.status_code == 200 and len(asset.content) > 100, src
    assert client.get(f"{API}/docs/assets/index.html").status_code == 404


def test_openapi_declares_bearer_and_cookie_schemes(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["cookie"]["in"] == "cookie" and schemes["cookie"]["name"] == "headshot_session"
    both: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]
    assert spec["paths"][f"{API}/me"]["get"]["security"] == both
    assert spec["paths"][f"{API}/sessions/{{session_id}}/photos"]["post"]["security"] == both
    assert "security" not in spec["paths"][f"{API}/auth/login"]["post"]
    assert "security" not in spec["paths"][f"{API}/consent"]["get"]
