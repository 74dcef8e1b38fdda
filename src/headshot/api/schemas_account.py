"""Schemas of the public configuration, password resets and changes, and email verification."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ConfigOut(BaseModel):
    min_photos: int = Field(description="Usable photos a batch needs before training.")
    max_photos: int = Field(description="Most accepted photos one batch holds.")
    signup: Literal["open", "invite", "closed"]
    email_verification: Literal["required", "optional", "off"]
    password_reset: bool = Field(description="Whether reset links can be mailed (mail is set up).")
    engine: str = Field(description="The engine new trainings use.")
    images_per_look_max: int
    looks_max: int
    min_password_length: int
    max_file_bytes: int = Field(description="Largest photo file accepted.")
    max_files_per_request: int
    share_max_s: int = Field(description="Longest lifetime of a share link.")


class ForgotPasswordIn(BaseModel):
    email: str = Field(max_length=320)


class MessageOut(BaseModel):
    message: str


class ResetPasswordIn(BaseModel):
    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class ChangePasswordIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class VerifyEmailIn(BaseModel):
    token: str = Field(max_length=200)
