"""The documentation must name every setting (a new setting without docs fails here)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from headshot.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _env_names(model: type[BaseModel], prefix: str) -> list[str]:
    names: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _env_names(annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [n for n in _env_names(Settings, "HEADSHOT_") if f"`{n}`" not in text]
    assert missing == [], f"undocumented settings: {missing}"


def test_setting_names_follow_the_public_contract() -> None:
    names = set(_env_names(Settings, "HEADSHOT_"))
    for public in (
        "HEADSHOT_DATA_DIR",
        "HEADSHOT_DATABASE_URL",
        "HEADSHOT_REDIS_URL",
        "HEADSHOT_BLOB_URL",
        "HEADSHOT_ENGINE",
        "HEADSHOT_FAL_KEY",
        "HEADSHOT_PUBLIC_URL",
        "HEADSHOT_MASTER_KEY",
        "HEADSHOT_S3_ENDPOINT_URL",
    ):
        assert public in names
