"""Over-generate and cull: a generation makes `images_per_look` times the engine's factor
candidates per look, keeps the best ones with no near-duplicate among them, and stores nothing
else (not even encrypted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from headshot.api.app import create_app
from headshot.domain.culling import CullCandidate
from headshot.storage.blobs_fs import FsBlobStore
from headshot.wiring import Runtime
from tests.api.conftest import sign_up
from tests.api.pipeline_helpers import API, SMALL_SET, ready_session, trained_model

LOOK = {"background": "studio-grey", "attire": "as-is", "lighting": "soft-studio"}
# The candidates of the look in the order the studio makes them (consecutive seeds): the
# likeness each gets, and a signature; candidates 1 and 3 share one (the same shot).
KNOWN = [(0.30, 0), (0.80, 1), (0.50, 2), (0.90, 1), (0.40, 4), (0.60, 5)]


class KnownLikenessDouble:
    """A likeness scorer double: the n-th candidate it is shown gets the n-th known likeness
    and signature; it remembers which image got which."""

    def __init__(self) -> None:
        self.shown: list[tuple[bytes, float]] = []

    def candidate(
        self,
        candidate_id: str,
        image: bytes,
        references: Sequence[Sequence[float]],  # noqa: ARG002 (the known likeness stands in)
        *,
        edge_deviation: float | None = None,  # noqa: ARG002 (no edge term in this double)
    ) -> CullCandidate:
        likeness, axis = KNOWN[len(self.shown)]
        self.shown.append((image, likeness))
        signature = tuple(1.0 if i == axis else 0.0 for i in range(len(KNOWN)))
        return CullCandidate(candidate_id, likeness, True, signature)


def headshot_blobs(root: Path) -> list[str]:
    return [key for key in FsBlobStore(root).list() if "/headshots/" in key]


def test_the_best_candidates_are_kept_and_no_other_is_stored(
    make_runtime: Callable[..., Runtime], testdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = make_runtime(**SMALL_SET, generation={"overgenerate_studio": 3})
    services = runtime.services
    scorer = KnownLikenessDouble()
    # The generation store scores through this same object.
    monkeypatch.setattr(services.likeness, "candidate", scorer.candidate)
    blob_root = services.settings.data_dir / "blobs"
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "cull@example.com")
        model = trained_model(client, headers, ready_session(client, headers, testdata))
        before = headshot_blobs(blob_root)
        body = {"model_id": model["id"], "looks": [LOOK], "images_per_look": 2, "seed": 5}
        started = client.post(f"{API}/generations", json=body, headers=headers)
        assert started.status_code == 202, started.text
        result = client.get(f"{API}/generations/{started.json()['id']}", headers=headers).json()
        gallery = client.get(f"{API}/headshots", headers=headers).json()["headshots"]
        stored = {
            h["id"]: client.get(f"{API}/headshots/{h['id']}/image", headers=headers).content
            for h in gallery
        }
        after = headshot_blobs(blob_root)
    assert result["status"] == "succeeded", result
    assert len(scorer.shown) == 6  # 2 shown times 3 candidates, in one studio call
    # 0.90 and 0.80 are the best, but the same shot: 0.90 and the next best, 0.60, are kept.
    assert [h["likeness"] for h in sorted(gallery, key=lambda h: -h["likeness"])] == [0.9, 0.6]
    kept_images = {image for image, likeness in scorer.shown if likeness in (0.9, 0.6)}
    assert set(stored.values()) == kept_images
    # Only the kept ones reached blob storage: two new headshot blobs, nothing else.
    assert before == [] and len(after) == 2


def test_more_like_this_makes_new_candidates_of_the_same_look_and_model(
    make_runtime: Callable[..., Runtime], testdata: Path
) -> None:
    runtime = make_runtime(**SMALL_SET)
    services = runtime.services
    office = {"background": "office", "attire": "as-is", "lighting": "rembrandt"}
    with TestClient(create_app(services), base_url="https://testserver") as client:
        headers = sign_up(client, "more@example.com")
        model = trained_model(client, headers, ready_session(client, headers, testdata))
        body = {"model_id": model["id"], "looks": [LOOK, office], "images_per_look": 2, "seed": 5}
        first = client.post(f"{API}/generations", json=body, headers=headers).json()
        source_id = client.get(f"{API}/generations/{first['id']}", headers=headers).json()[
            "headshot_ids"
        ][-1]
        source = client.get(f"{API}/headshots/{source_id}", headers=headers).json()
        more = client.post(f"{API}/headshots/{source_id}/more", headers=headers)
        assert more.status_code == 202, more.text
        made = client.get(f"{API}/generations/{more.json()['id']}", headers=headers).json()
        new = [
            client.get(f"{API}/headshots/{h}", headers=headers).json() for h in made["headshot_ids"]
        ]
        stranger = sign_up(client, "stranger@example.com")
        refused = client.post(f"{API}/headshots/{source_id}/more", headers=stranger)
    look = {k: source[k] for k in ("background", "attire", "lighting")}
    assert made["status"] == "succeeded" and made["model_id"] == model["id"]
    assert made["looks"] == [look] and made["images_per_look"] == 2
    assert len(new) == 2 and all(h["background"] == look["background"] for h in new)
    assert made["seed"] not in (None, 5)  # a new seed: new candidates
    assert refused.status_code == 404
