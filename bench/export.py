"""Export benchmark: the data-export zip of accounts of growing size, streamed through the real
service on SQLite and local encrypted blobs. Prints throughput and the Python heap's peak
(tracemalloc) while streaming, per account size, and the ratio of the largest peak to the
smallest: it stays near 1 because nothing but the file list grows with the account.

Run: `uv run python bench/export.py [--sizes 10 100] [--mib 1]`.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import tempfile
import time
import tracemalloc
from pathlib import Path

from headshot.services.container import Services
from headshot.settings import Settings
from headshot.storage.db import make_engine
from headshot.storage.migrate import upgrade
from headshot.storage.records import Generation, Headshot, PhotoSession, Training, User
from headshot.wiring import build_services


def _services(root: Path) -> Services:
    settings = Settings(
        data_dir=root,
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        log_json=False,
    )
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    engine.dispose()
    return build_services(settings)


def _account(services: Services, files: int, size: int) -> str:
    with services.db.transaction() as db:
        user = User(email=f"bench{files}@example.com", password_hash="x")
        db.add(user)
        db.flush()
        user_id = user.id
    keys = [f"headshots/bench-{i}.jpg" for i in range(files)]
    for key in keys:
        services.blobs.put(user_id, key, os.urandom(size))
    with services.db.transaction() as db:
        session = PhotoSession(user_id=user_id, name="bench")
        db.add(session)
        db.flush()
        model = Training(user_id=user_id, session_id=session.id, version=1, engine="studio")
        db.add(model)
        db.flush()
        made = Generation(user_id=user_id, model_id=model.id, engine="studio")
        db.add(made)
        db.flush()
        for key in keys:
            db.add(
                Headshot(
                    user_id=user_id,
                    generation_id=made.id,
                    model_id=model.id,
                    session_id=session.id,
                    background="office",
                    attire="as-is",
                    lighting="rembrandt",
                    image_key=key,
                    width=1024,
                    height=1280,
                )
            )
    return user_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--mib", type=float, default=1.0, help="size of each file")
    args = parser.parse_args()
    size = int(args.mib * 1024 * 1024)
    peaks: list[int] = []
    with tempfile.TemporaryDirectory() as folder:
        services = _services(Path(folder))
        print(f"{'files':>6} {'archive MiB':>12} {'seconds':>8} {'MiB/s':>7} {'peak KiB':>9}")
        for files in args.sizes:
            user_id = _account(services, files, size)
            tracemalloc.start()
            started = time.perf_counter()
            total = sum(len(c) for c in services.exporter.export(user_id, actor="operator"))
            seconds = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            peaks.append(peak)
            mib = total / 2**20
            print(
                f"{files:>6} {mib:>12.1f} {seconds:>8.2f} {mib / seconds:>7.1f} {peak / 1024:>9.0f}"
            )
        services.db.dispose()
    print(f"peak ratio largest/smallest account: {peaks[-1] / peaks[0]:.2f}")


if __name__ == "__main__":
    main()
