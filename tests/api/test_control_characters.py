"""NUL and other control characters answer a clear 422 wherever text enters, on PostgreSQL
(which cannot store NUL; SQLite can, so only PostgreSQL shows a miss)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, sign_up

API = "/api/v1"
BAD = "a\x00b"
PROBLEM = "control characters (such as NUL) are not allowed"


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []):
            resolved = _resolve(option, spec)
            if resolved.get("type") in {"string", "object", "array"}:
                return resolved
    return schema


def _bodies_with_bad_text(schema: dict[str, Any], spec: dict[str, Any]) -> list[Any]:
    """One body per string-bearing place in the schema, that place holding BAD."""
    schema = _resolve(schema, spec)
    kind = schema.get("type")
    if kind == "string":
        return [BAD]
    if kind == "array":
        return [[inner] for inner in _bodies_with_bad_text(schema.get("items", {}), spec)]
    if kind == "object":
        bodies: list[Any] = []
        for name, prop in schema.get("properties", {}).items():
            bodies += [{name: inner} for inner in _bodies_with_bad_text(prop, spec)]
        if schema.get("additionalProperties") is not False:
            bodies += [{BAD: "value"}, {"key": BAD}]
        return bodies
    return []


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _refused(response: Any) -> bool:
    return response.status_code == 422 and PROBLEM in response.json()["error"]["message"]


def test_every_path_and_query_parameter_refuses_nul(client: TestClient) -> None:
    headers = sign_up(client, "nul@example.com")
    spec = client.get(f"{API}/openapi.json").json()
    tried = 0
    for method, path, operation in _operations(spec):
        params = operation.get("parameters", [])
        for param in params:
            url = re.sub(r"\{[^}]+\}", "x", path.replace("{" + param["name"] + "}", "%00"))
            query = f"?{param['name']}=a%00b" if param["in"] == "query" else ""
            if param["in"] not in {"path", "query"}:
                continue
            response = client.request(method, url + query, headers=headers)
            assert _refused(response), (method, path, param["name"], response.text)
            tried += 1
    assert tried >= 30
    assert client.get(f"{API}/me", headers=headers).status_code == 200


def test_every_json_text_field_refuses_nul(client: TestClient) -> None:
    headers = sign_up(client, "body@example.com")
    spec = client.get(f"{API}/openapi.json").json()
    tried = 0
    for method, path, operation in _operations(spec):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        url = re.sub(r"\{[^}]+\}", "x", path)
        for body in _bodies_with_bad_text(content["application/json"]["schema"], spec):
            response = client.request(method, url, json=body, headers=headers)
            assert _refused(response), (method, path, body, response.text)
            tried += 1
    assert tried >= 20
    assert client.get(f"{API}/me", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "text", ["a\x00b", "bell\x07", "\x1b[31mred", "del\x7f", "c1\x85", "lone\ud800"]
)
def test_login_without_an_account_refuses_control_characters(client: TestClient, text: str) -> None:
    body = json.dumps({"email": text, "password": PASSWORD})  # escapes even a lone surrogate
    login = client.post(
        f"{API}/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert _refused(login)
    assert "\x00" not in login.text and "\x1b" not in login.text


def test_ordinary_text_with_tabs_and_newlines_still_works(client: TestClient) -> None:
    headers = sign_up(client, "ok@example.com")
    created = client.post(f"{API}/sessions", json={"name": "Café\tshoot\n2026"}, headers=headers)
    assert created.status_code == 201
    listed = client.get(f"{API}/headshots?background=studio%20grey", headers=headers)
    assert listed.status_code == 200
