"""Job leases (SQLite and PostgreSQL): a step holds its job's lease, a heartbeat renews it, and a
lease whose holder died is reclaimed by exactly one other process, which enqueues the job again.
The kill -9 of a real worker process is in tests/scaleout/test_worker_kill.py."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from headshot.api.app import create_app
from headshot.jobs.lease_keeper import LeaseKeeper
from headshot.services.job_leases import JobLeases, process_owner
from headshot.storage.db import Database
from headshot.storage.records import JobLease
from headshot.wiring import Runtime
from tests.api.conftest import run_scheduled, sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session, trained_model
from tests.clock import SettableClock

LOOK = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}


def _leases(db: Database) -> list[JobLease]:
    with db.transaction() as session:
        rows = list(session.scalars(select(JobLease)))
        session.expunge_all()
        return rows


@pytest.fixture
def database(make_runtime: Callable[..., Runtime]) -> Database:
    return make_runtime().services.db


def _process(database: Database, clock: SettableClock, name: str) -> JobLeases:
    return JobLeases(db=database, clock=clock, lease_s=30, owner=name)


def _die_holding(leases: JobLeases, kind: str, job_id: str) -> None:
    """Enter a hold whose step never ends, as in a process killed mid-step: nothing renews or
    releases its lease."""
    leases._release = lambda _: None  # type: ignore[method-assign,assignment]  # dead
    assert leases.hold(kind, job_id).__enter__()


def test_a_step_holds_its_lease_only_while_it_runs(
    database: Database, clock: SettableClock
) -> None:
    worker = _process(database, clock, "worker-a")
    with worker.hold("training", "job1") as held:
        assert held
        (lease,) = _leases(database)
        assert (lease.job_id, lease.kind, lease.owner) == ("job1", "training", "worker-a")
        assert lease.expires_at == clock() + timedelta(seconds=30)
        assert worker.live() == {"job1"}
    assert _leases(database) == []


def test_the_lease_is_released_when_the_step_fails(
    database: Database, clock: SettableClock
) -> None:
    worker = _process(database, clock, "worker-a")
    with pytest.raises(RuntimeError), worker.hold("generation", "job1"):
        raise RuntimeError("the step failed")
    assert _leases(database) == []


def test_two_steps_of_one_job_never_run_at_once(database: Database, clock: SettableClock) -> None:
    first, other = _process(database, clock, "worker-a"), _process(database, clock, "worker-b")
    with first.hold("training", "job1") as held:
        assert held
        with first.hold("training", "job1") as again:  # a second thread of the same process
            assert not again
        with other.hold("training", "job1") as elsewhere:  # another process
            assert not elsewhere
        assert len(_leases(database)) == 1  # the refused attempts left the holder's lease alone
    with other.hold("training", "job1") as after:
        assert after


def test_the_heartbeat_keeps_a_living_holders_lease(
    database: Database, clock: SettableClock
) -> None:
    holder, watcher = _process(database, clock, "worker-a"), _process(database, clock, "worker-b")
    with holder.hold("training", "job1"):
        for _ in range(10):  # five minutes of a long local step, a beat every 30 s
            clock.advance(seconds=25)
            assert holder.renew() == 1
            assert watcher.reclaim_expired() == []
        (lease,) = _leases(database)
        assert lease.expires_at == clock() + timedelta(seconds=30)
    assert holder.renew() == 0  # nothing held: no write


def test_a_dead_holders_lease_is_reclaimed_once(database: Database, clock: SettableClock) -> None:
    dead = _process(database, clock, "worker-dead")
    _die_holding(dead, "generation", "job1")
    survivors = [_process(database, clock, f"worker-{n}") for n in range(3)]
    clock.advance(seconds=29)
    assert [s.reclaim_expired() for s in survivors] == [[], [], []]
    clock.advance(seconds=2)
    claimed = [lease for s in survivors for lease in s.reclaim_expired()]
    assert [(c.kind, c.job_id) for c in claimed] == [("generation", "job1")]
    assert _leases(database) == []


def test_a_step_may_take_over_an_expired_lease(database: Database, clock: SettableClock) -> None:
    dead, next_worker = _process(database, clock, "worker-dead"), _process(database, clock, "b")
    _die_holding(dead, "training", "job1")
    clock.advance(seconds=31)
    with next_worker.hold("training", "job1") as held:
        assert held
        (lease,) = _leases(database)
        assert lease.owner == "b"


def test_the_keeper_enqueues_each_reclaimed_job_by_kind(
    database: Database, clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    dead = _process(database, clock, "worker-dead")
    for kind, job_id in [("training", "t1"), ("generation", "g1"), ("mystery", "m1")]:
        _die_holding(dead, kind, job_id)
    enqueued: list[tuple[str, str]] = []

    def refuse(job_id: str) -> None:
        raise ConnectionError("queue down")

    keeper = LeaseKeeper(
        _process(database, clock, "worker-b"),
        enqueue={
            "training": lambda job_id: enqueued.append(("training", job_id)),
            "generation": refuse,
        },
        every_s=5,
    )
    assert keeper.tick() == []  # nothing expired yet
    clock.advance(seconds=31)
    with caplog.at_level(logging.ERROR):
        assert keeper.tick() == ["t1"]
    assert enqueued == [("training", "t1")]
    assert "unknown job kind" in caplog.text and "could not resume a job" in caplog.text


def test_the_keeper_thread_beats_until_stopped(database: Database, clock: SettableClock) -> None:
    holder = _process(database, clock, "worker-a")
    keeper = LeaseKeeper(holder, enqueue={}, every_s=0.01)
    with holder.hold("training", "job1"):
        keeper.start()
        with pytest.raises(RuntimeError):
            keeper.start()
        clock.advance(seconds=20)
        deadline = clock() + timedelta(seconds=30)
        for _ in range(500):
            if _leases(database)[0].expires_at == deadline:
                break
            time.sleep(0.01)
        keeper.stop()
        keeper.stop()  # idempotent
        assert _leases(database)[0].expires_at == deadline


def test_owner_names_differ_per_process_start() -> None:
    assert process_owner() != process_owner()
    assert len(process_owner()) <= 100


def test_a_duplicate_task_waits_for_the_running_step(
    make_runtime: Callable[..., Runtime],
    clock: SettableClock,
    testdata: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = make_runtime(**SMALL_SET)
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "dup@example.com")
        model = trained_model(client, headers, ready_session(client, headers, testdata))
        body = {"model_id": model["id"], "looks": [LOOK], "images_per_look": 1}
        with monkeypatch.context() as later:
            later.setattr(services.queue, "run_generation", lambda *_, **__: None)
            generation_id = client.post(f"{API}/generations", json=body, headers=headers).json()[
                "id"
            ]
        url = f"{API}/generations/{generation_id}"
        # Another worker runs a step of this job when its task arrives (a webhook and a poll at
        # once): the task must neither run beside that step nor be dropped.
        elsewhere = JobLeases(db=services.db, clock=clock, lease_s=30, owner="another-worker")
        with elsewhere.hold("generation", generation_id):
            services.queue.run_generation(generation_id)  # immediate: the task runs inline
            assert client.get(url, headers=headers).json()["status"] == "queued"
        run_scheduled(runtime)  # the postponed task, once the other step has ended
        view = client.get(url, headers=headers).json()
    assert view["status"] == "succeeded" and len(view["headshot_ids"]) == 1


def test_stale_requeue_leaves_a_job_a_live_worker_runs(
    make_runtime: Callable[..., Runtime],
    clock: SettableClock,
    testdata: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = make_runtime(**SMALL_SET)
    services = runtime.services
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "long@example.com")
        model = trained_model(client, headers, ready_session(client, headers, testdata))
        enqueued: list[str] = []
        monkeypatch.setattr(
            services.queue, "run_generation", lambda job_id, **_: enqueued.append(job_id)
        )
        body = {"model_id": model["id"], "looks": [LOOK], "images_per_look": 1}
        generation_id = client.post(f"{API}/generations", json=body, headers=headers).json()["id"]
        enqueued.clear()
        # A long local step runs on a live worker: its row is not touched, its lease is renewed.
        worker = JobLeases(db=services.db, clock=clock, lease_s=30, owner="busy-worker")
        with worker.hold("generation", generation_id):
            for _ in range(25):
                clock.advance(seconds=services.settings.jobs.stale_after_s / 20)
                worker.renew()
            runtime.tasks.run_maintenance()
            assert enqueued == []
        runtime.tasks.run_maintenance()  # its worker is gone without a lease: stale now
        assert enqueued == [generation_id]
