"""Product metrics from the records: who may scrape `/metrics`, outcome classification, and
retention figures from a seeded history checked against a hand computation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from headshot.api.app import create_app
from headshot.services.container import Services
from headshot.storage.records import AuditEntry, Generation, PhotoSession, Training, User
from tests.api.conftest import sign_up
from tests.api.test_provider_keys import make_operator
from tests.clock import SettableClock

SCRAPE_TOKEN = "prometheus-scrape-token-0123456789"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_anonymous_and_ordinary_scrapes_are_refused(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(metrics_token=SCRAPE_TOKEN)
    with TestClient(create_app(services), base_url="https://testserver") as client:
        person = sign_up(client, "person@example.com")
        operator = sign_up(client, "ops@example.com")
        make_operator(services, "ops@example.com")
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers=person).status_code == 403
        assert client.get("/metrics", headers=operator).status_code == 200
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
        assert scraped.status_code == 200
        assert "headshot_product_metrics_up 1.0" in scraped.text
        assert client.get("/api/v1/admin/metrics", headers=person).status_code == 404


def _person(db: Session, email: str, first: datetime) -> tuple[str, str]:
    """A person with a session, a trained model and a first generation at `first`."""
    user = User(email=email, password_hash="x", created_at=first, last_active_at=first)
    db.add(user)
    db.flush()
    session = PhotoSession(user_id=user.id, name="s", created_at=first, updated_at=first)
    db.add(session)
    db.flush()
    model = Training(
        user_id=user.id,
        session_id=session.id,
        version=1,
        engine="studio",
        status="succeeded",
        created_at=first,
        updated_at=first,
    )
    db.add(model)
    db.flush()
    _generation(db, user.id, model.id, first)
    return user.id, model.id


def _generation(db: Session, user_id: str, model_id: str, at: datetime) -> None:
    db.add(
        Generation(
            user_id=user_id,
            model_id=model_id,
            engine="studio",
            status="succeeded",
            created_at=at,
            updated_at=at,
            finished_at=at,
        )
    )


def _came_back(db: Session, user_id: str, at: datetime, action: str = "account.login") -> None:
    db.add(AuditEntry(at=at, subject_user_id=user_id, actor="user", action=action))


def test_retention_from_a_seeded_history_matches_a_hand_computation(
    make_services: Callable[..., Services], clock: SettableClock
) -> None:
    services = make_services()
    now = clock.now
    with services.db.transaction() as db:
        a, a_model = _person(db, "a@example.com", now - timedelta(days=40))
        _came_back(db, a, now - timedelta(days=37))  # day 3: back within 7 and 30 days
        _generation(db, a, a_model, now - timedelta(days=5))  # later ones do not move "first"
        b, _ = _person(db, "b@example.com", now - timedelta(days=40))
        _came_back(db, b, now - timedelta(days=30), "photo.upload")  # day 10: within 30 only
        c, _ = _person(db, "c@example.com", now - timedelta(days=40))
        _came_back(db, c, now - timedelta(days=40) + timedelta(hours=3))  # the same visit
        _came_back(db, c, now - timedelta(days=5))  # day 35: too late for either
        _person(db, "d@example.com", now - timedelta(days=40))  # never came back
        e, _ = _person(db, "e@example.com", now - timedelta(days=10))
        _came_back(db, e, now - timedelta(days=8), "headshot.read")  # day 2; too new for 30 d
        f, _ = _person(db, "f@example.com", now - timedelta(days=2))  # too new for either
        _came_back(db, f, now - timedelta(days=1))
        d = db.scalars(select(User.id).where(User.email == "d@example.com")).one()
        operator_action = AuditEntry(
            at=now - timedelta(days=38), subject_user_id=d, actor="operator", action="quota.set"
        )
        db.add(operator_action)  # an operator's doing is not the person coming back
    # By hand: 7 days: cohort a b c d e, back a e -> 2/5; 30 days: cohort a b c d, back a b -> 2/4.
    snapshot = services.product_stats.snapshot()
    by_days = {r.days: (r.returned, r.cohort) for r in snapshot.retention}
    assert by_days == {7: (2, 5), 30: (2, 4)}

    with TestClient(create_app(services), base_url="https://testserver") as client:
        operator = sign_up(client, "ops@example.com")
        make_operator(services, "ops@example.com")
        body = client.get("/api/v1/admin/metrics", headers=operator).json()
        assert [(r["days"], r["rate"]) for r in body["retention"]] == [(7, 0.4), (30, 0.5)]
        target = next(t for t in body["targets"] if t["name"].startswith("retention_30d"))
        assert target == {
            "name": "retention_30d_after_first_generation",
            "value": 0.5,
            "threshold": 0.85,
            "comparison": ">",
            "unit": "ratio",
            "met": False,
        }
        scraped = samples(client.get("/metrics", headers=operator).text)
    assert scraped[("headshot_retention_after_first_generation", (("days", "7"),))] == 0.4
    assert scraped[("headshot_retention_cohort", (("days", "30"),))] == 4


def test_outcomes_are_classified_from_the_records(
    make_services: Callable[..., Services], clock: SettableClock
) -> None:
    services = make_services()
    now = clock.now
    with services.db.transaction() as db:
        user, model = _person(db, "jobs@example.com", now - timedelta(days=1))
        session = db.get(Training, model)
        assert session is not None
        for version, (status, request_id) in enumerate(
            [
                ("failed", "req-provider-failed"),  # the provider took it, then it failed
                ("failed", None),  # never reached the provider: ours
                ("cancelled", None),
                ("succeeded", "req-ok"),
                ("running", "req-running"),
            ],
            start=2,
        ):
            db.add(
                Training(
                    user_id=user,
                    session_id=session.session_id,
                    version=version,
                    engine="fal",
                    status=status,
                    provider_request_id=request_id,
                    created_at=now - timedelta(hours=1),
                    updated_at=now,
                )
            )
    snapshot = services.product_stats.snapshot()
    assert snapshot.outcomes["training"] == {
        "succeeded": 2,
        "failed_ours": 1,
        "failed_provider": 1,
        "cancelled": 1,
    }
    assert snapshot.active["training"] == {"running": 1}
    assert snapshot.training_failure_rate == pytest.approx(1 / 4)


def test_stats_command_shows_the_targets(
    make_services: Callable[..., Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from headshot.cli import build_cli

    services = make_services()
    url = services.db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("HEADSHOT_DATABASE_URL", url)
    result = CliRunner().invoke(build_cli(), ["stats", "--json"])
    assert result.exit_code == 0, result.output
    names = [t["name"] for t in json.loads(result.stdout)["targets"]]
    assert names == [
        "training_failure_rate",
        "photo_processing_p95_s",
        "retention_30d_after_first_generation",
    ]
    table = CliRunner().invoke(build_cli(), ["stats"])
    assert "training_failure_rate" in table.stdout and "no data yet" in table.stdout


def test_the_grafana_dashboard_uses_only_exposed_metrics(
    make_services: Callable[..., Services],
) -> None:
    import re
    from pathlib import Path

    dashboard = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"
    expressions = [
        target["expr"]
        for panel in json.loads(dashboard.read_text())["panels"]
        for target in panel["targets"]
    ]
    used = {
        re.sub(r"_(bucket|count|sum|total)$", "", name)
        for expr in expressions
        for name in re.findall(r"headshot_[a-z0-9_]+", expr)
    }
    exposition = make_services().metrics.exposition().decode()
    declared = set(re.findall(r"^# TYPE (headshot_[a-z0-9_]+)", exposition, re.MULTILINE))
    declared |= {re.sub(r"_total$", "", name) for name in declared}
    assert used and used <= declared, used - declared
