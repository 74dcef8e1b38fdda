"""`headshot config` shows the effective settings and never a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from headshot.cli import build_cli


def test_config_masks_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADSHOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FAL_KEY", "key-id:very-secret-value")
    monkeypatch.setenv("HEADSHOT_MASTER_KEY", "c2VjcmV0LW1hc3Rlci1rZXktbWF0ZXJpYWwtMzJieXRlcyE=")
    monkeypatch.setenv("HEADSHOT_DATABASE_URL", "postgresql://app:hunter22@db.internal/headshot")
    result = CliRunner().invoke(build_cli(), ["config", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for secret in ("very-secret-value", "hunter22", "c2VjcmV0"):
        assert secret not in result.output
    assert data["fal_key"] == "********" and data["engine"] == "fal"
    assert data["blob_url"].startswith("file://") and data["uploads"]["max_file_bytes"] > 0


def test_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "headshot.toml"
    config.write_text("port = 9443\n[uploads]\nmax_files_per_request = 7\n")
    monkeypatch.setenv("HEADSHOT_CONFIG_FILE", str(config))
    monkeypatch.setenv("HEADSHOT_PORT", "9444")  # the environment wins over the file
    from headshot.settings import load_settings

    settings = load_settings()
    assert settings.port == 9444 and settings.uploads.max_files_per_request == 7
