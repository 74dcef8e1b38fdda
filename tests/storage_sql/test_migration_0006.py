"""Migration 0006 on existing data: studio headshots filed under an attire the studio cannot
render become "as-is" (own clothes), and accounts made before verification existed count as
verified."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from headshot.storage.db import make_engine
from headshot.storage.migrate import upgrade

NOW = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def _filled(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """`values` plus a plain value for every other required column."""
    by_type: list[tuple[type[Any], Any]] = [
        (sa.Boolean, False),
        (sa.Integer, 1),
        (sa.Float, 0.0),
        (sa.DateTime, NOW),
        (sa.JSON, {}),
        (sa.String, "x"),
        (sa.Text, "x"),
    ]
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.autoincrement is True:
            continue
        row[column.name] = next(v for kind, v in by_type if isinstance(column.type, kind))
    return row


def test_studio_attire_and_old_accounts_after_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0003")
        meta = sa.MetaData()
        meta.reflect(engine)
        suit = {"background": "office", "attire": "business-suit", "lighting": "rembrandt"}
        rows: list[tuple[str, dict[str, Any]]] = [
            ("users", {"id": "u1", "email": "old@example.com", "created_at": NOW}),
            ("photo_sessions", {"id": "s1", "user_id": "u1"}),
            ("trainings", {"id": "t1", "user_id": "u1", "session_id": "s1", "engine": "studio"}),
            ("trainings", {"id": "t2", "user_id": "u1", "session_id": "s1", "engine": "fal"}),
            (
                "generations",
                {
                    "id": "g1",
                    "user_id": "u1",
                    "model_id": "t1",
                    "engine": "studio",
                    "looks": [suit],
                },
            ),
            (
                "generations",
                {"id": "g2", "user_id": "u1", "model_id": "t2", "engine": "fal", "looks": [suit]},
            ),
            (
                "headshots",
                {"id": "h1", "user_id": "u1", "generation_id": "g1", "attire": "business-suit"},
            ),
            (
                "headshots",
                {"id": "h2", "user_id": "u1", "generation_id": "g2", "attire": "business-suit"},
            ),
        ]
        with engine.begin() as conn:
            for version, (name, values) in enumerate(rows, start=1):
                table = meta.tables[name]
                if name == "trainings":
                    values = {**values, "version": version}
                conn.execute(table.insert().values(_filled(table, values)))

        upgrade(engine)

        with engine.connect() as conn:
            attire: dict[str, Any] = dict(
                conn.execute(sa.text("SELECT id, attire FROM headshots")).all()
            )
            looks: dict[str, Any] = dict(
                conn.execute(sa.text("SELECT id, looks FROM generations")).all()
            )
            verified = conn.execute(sa.text("SELECT email_verified_at FROM users")).scalar()
            excluded = conn.execute(sa.text("SELECT count(*) FROM photos WHERE excluded")).scalar()
        assert attire == {"h1": "as-is", "h2": "business-suit"}
        # Plain SQL: SQLite hands back the JSON text, PostgreSQL the decoded value.
        studio_looks, fal_looks = (
            json.loads(v) if isinstance(v, str) else v for v in (looks["g1"], looks["g2"])
        )
        assert studio_looks == [{**suit, "attire": "as-is"}] and fal_looks == [suit]
        assert verified is not None and excluded == 0
    finally:
        engine.dispose()
