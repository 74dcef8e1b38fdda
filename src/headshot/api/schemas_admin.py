"""Schemas of the operator's `/admin` endpoints, one per direction."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from headshot.services.provider_keys import ProviderKeyView


class ProviderKeyIn(BaseModel):
    # SecretStr keeps the key out of reprs, logs and validation errors.
    secret: SecretStr = Field(max_length=400, description="The fal key, `key_id:key_secret`.")
    label: str = Field("", max_length=100)
    scope: Literal["API", "ADMIN"] = "API"


class ProviderKeyOut(BaseModel):
    """A stored key. The secret is never returned; `hint` shows enough to recognise it."""

    id: str
    provider: str
    label: str
    hint: str
    scope: Literal["API", "ADMIN"]
    state: Literal["active", "retiring", "rejected", "revoked"]
    created_at: datetime
    retired_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, view: ProviderKeyView) -> ProviderKeyOut:
        return cls(**view.__dict__)


class ProviderKeysOut(BaseModel):
    keys: list[ProviderKeyOut]
