"""`headshot run` through typer's CliRunner: the studio end to end on testdata/person at the
default minimum of 10 photos, the fal engine end to end against the fal HTTP double, and the exit
codes of bad input."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from PIL import Image
from typer.testing import CliRunner, Result

from headshot.cli.run import RunDeps, run_command
from headshot.cli.run_engines import Pacing
from headshot.settings import GenerationSettings
from tests.fal_double.core import API_KEY
from tests.fal_double.faults import Fault
from tests.fal_double.fixtures import fal_double  # noqa: F401 (pytest fixture)
from tests.fal_double.server import FalDouble
from tests.fal_double.state import GENERATOR, TRAINER

# testdata/person's photos that are poor headshot sources (speaking, looking away, seen from
# above): the checks accept them, training leaves them out.
UNSUITABLE = {
    "pd_obama_2009_congress.jpg",
    "pd_obama_2016_oval-office-signing.jpg",
    "pd_obama_wa02_striped-shirt.jpg",
}


def app() -> typer.Typer:
    cli = typer.Typer()
    cli.command()(run_command)
    return cli


def no_wait(_seconds: float) -> None:
    """The double moves a request one step per status poll, so polls need no real waiting."""


def invoke(args: list[str], *, face_models: Any, sleep: Any = no_wait) -> Result:
    deps = RunDeps(face_models=face_models, pacing=Pacing(sleep=sleep))
    return CliRunner().invoke(app(), args, obj=deps)


@pytest.fixture
def photos(person: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "selfies"
    folder.mkdir()
    for path in person.glob("*.jpg"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # Rich wraps at 80 columns off a terminal


@pytest.fixture
def fal_env(monkeypatch: pytest.MonkeyPatch, fal_double: FalDouble) -> FalDouble:  # noqa: F811
    monkeypatch.setenv("HEADSHOT_FAL_KEY", API_KEY)
    monkeypatch.setenv("HEADSHOT_FAL_QUEUE_URL", fal_double.queue_url)
    monkeypatch.setenv("HEADSHOT_FAL_REST_URL", fal_double.rest_url)
    monkeypatch.setenv("HEADSHOT_FAL_CDN_URL", fal_double.cdn_url)
    monkeypatch.setenv("HEADSHOT_FAL_API_URL", fal_double.api_url)
    return fal_double


def manifest_of(out: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((out / "run.json").read_text())
    return body


def assert_headshot(path: Path) -> None:
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        assert (image.format, image.size) == ("JPEG", (1024, 1280))


def test_studio_end_to_end(photos: Path, tmp_path: Path, face_models: Any) -> None:
    out = tmp_path / "out"
    looks = "office:business-suit:rembrandt,studio-grey:as-is:soft-studio"
    args = [str(photos), "--out", str(out), "--engine", "studio"]
    result = invoke(
        [*args, "--looks", looks, "--look", "city:creative:dramatic", "--seed", "7"],
        face_models=face_models,
    )
    assert result.exit_code == 0, result.output
    assert "ready for training" in result.output
    assert result.output.count("Attire changes need the AI engine") == 1  # once, for two looks

    manifest = manifest_of(out)
    assert manifest["engine"] == "studio" and manifest["seed"] == 7
    everyone = {p.name for p in photos.iterdir()}
    assert set(manifest["photos_used"]) == everyone - UNSUITABLE
    assert set(manifest["photos_skipped"]) == UNSUITABLE
    model = out / manifest["model"]["file"]
    assert model == out / "model" / "studio-model.zip"
    assert hashlib.sha256(model.read_bytes()).hexdigest() == manifest["model"]["sha256"]
    assert [look["seed"] for look in manifest["looks"]] == [7, 1007, 2007]
    images = [image for look in manifest["looks"] for image in look["images"]]
    # Each look's 2 headshots are the best of 2 x 3 candidates (seeds 1007-1012), each kept
    # with its own seed so it can be made again.
    factor = GenerationSettings().overgenerate_studio
    kept_seeds = [image["seed"] for image in manifest["looks"][1]["images"]]
    assert len(set(kept_seeds)) == 2 and all(1007 <= s < 1007 + 2 * factor for s in kept_seeds)
    assert len(images) == 6
    assert images[0]["file"] == "headshot-office-business-suit-rembrandt-1.jpg"
    assert manifest["files"] == ["model/studio-model.zip", *(i["file"] for i in images)]
    for image in images:
        assert_headshot(out / image["file"])
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model", "run.json", *(i["file"] for i in images)]
    )
    assert str(tmp_path) not in result.output.replace(str(out), "").replace(str(photos), "")

    again = invoke([*args, "--looks", looks], face_models=face_models)
    assert again.exit_code == 2 and "not empty" in again.output
    redo = invoke([*args, "--images-per-look", "1", "--overwrite"], face_models=face_models)
    assert redo.exit_code == 0, redo.output
    defaults = manifest_of(out)["looks"]
    # The studio keeps the clothes, so its default looks say so.
    assert [(look["background"], look["attire"]) for look in defaults] == [
        ("studio-grey", "as-is"),
        ("office", "as-is"),
        ("outdoor-green", "as-is"),
    ]
    assert "Attire changes" not in redo.output


def test_set_not_ready_exits_1(testdata: Path, tmp_path: Path, face_models: Any) -> None:
    folder = tmp_path / "pets"
    folder.mkdir()
    for name in ("cc0_chelsea_cat.jpg", "cc0_coffee.jpg"):
        shutil.copy(testdata / name, folder / name)
    out = tmp_path / "out"
    result = invoke([str(folder), "--out", str(out), "--engine", "studio"], face_models=face_models)
    assert result.exit_code == 1, result.output
    assert "not ready" in result.output and "face_count" in result.output
    assert "Not training" in result.output
    assert not out.exists()


def test_usage_errors_exit_2(photos: Path, tmp_path: Path, face_models: Any) -> None:
    out = str(tmp_path / "out")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases: dict[str, list[str]] = {
        "was not found": [str(tmp_path / "missing"), "--out", out],
        "No photos": [str(empty), "--out", out],
        "must not be the photos folder": [str(photos), "--out", str(photos)],
        "Unknown background 'moon'": [str(photos), "--out", out, "--looks", "moon:as-is:dramatic"],
        "BACKGROUND:ATTIRE:LIGHTING": [str(photos), "--out", out, "--looks", "office"],
        "--trigger-phrase": [str(photos), "--out", out, "--trigger-phrase", "x"],
        "needs a key": [str(photos), "--out", out, "--engine", "fal"],
    }
    for expected, args in cases.items():
        result = invoke(args, face_models=face_models)
        assert result.exit_code == 2, (expected, result.output)
        assert expected in result.output, (expected, result.output)
    assert invoke([str(photos)], face_models=face_models).exit_code == 2  # --out is required
    assert not (tmp_path / "out").exists()


def test_fal_end_to_end(fal_env: FalDouble, photos: Path, tmp_path: Path, face_models: Any) -> None:
    fal_env.inject(Fault(route="status", kind="status", status=503))  # a transient poll error
    out = tmp_path / "out"
    args = [str(photos), "--out", str(out), "--seed", "5", "--steps", "500"]
    result = invoke(args, face_models=face_models)  # fal: the default once a key is set
    assert result.exit_code == 0, result.output

    assert fal_env.billable_submits(TRAINER) == 1
    assert fal_env.billable_submits(GENERATOR) == 3  # one per default look
    training = next(r for r in fal_env.requests.values() if r.endpoint == TRAINER)
    assert training.input["steps"] == 500 and training.input["trigger_phrase"] == "hsperson"
    assert len([n for n in fal_env.archive(training.request_id) if n.endswith(".jpg")]) == 13

    manifest = manifest_of(out)
    assert manifest["engine"] == "fal" and manifest["steps"] == 500
    assert manifest["provider"]["training_request_id"] == training.request_id
    model = out / "model" / "lora.safetensors"
    assert hashlib.sha256(model.read_bytes()).hexdigest() == manifest["model"]["sha256"]
    attire = [look["attire"] for look in manifest["looks"]]
    assert attire == ["as-is", "business-suit", "smart-casual"]
    files = [image["file"] for look in manifest["looks"] for image in look["images"]]
    assert len(files) == 6 and "headshot-office-business-suit-rembrandt-2.jpg" in files
    for name in files:
        assert_headshot(out / name)
    assert "double-secret" not in result.output


def test_fal_ctrl_c_cancels_the_training(
    fal_env: FalDouble, photos: Path, tmp_path: Path, face_models: Any
) -> None:
    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    out = tmp_path / "out"
    args = [str(photos), "--out", str(out)]
    result = invoke(args, face_models=face_models, sleep=interrupt)
    assert result.exit_code == 130, result.output
    assert "Cancelled at the provider" in result.output
    assert len(fal_env.received_on("cancel")) == 1
    assert fal_env.billable_submits(TRAINER) == 1 and fal_env.billable_submits(GENERATOR) == 0
    assert not out.exists()


def test_fal_ambiguous_submit_is_never_resubmitted(
    fal_env: FalDouble, photos: Path, tmp_path: Path, face_models: Any
) -> None:
    # The double accepts (and bills) the training, then drops the connection.
    fal_env.inject(Fault(route="submit", kind="reset_after", endpoint=TRAINER))
    out = tmp_path / "out"
    args = [str(photos), "--out", str(out)]
    result = invoke(args, face_models=face_models)
    assert result.exit_code == 1, result.output
    assert "It was not sent again" in result.output
    assert len(fal_env.received_on("submit")) == 1
    assert fal_env.billable_submits(TRAINER) == 1
    assert "Traceback" not in result.output and not out.exists()
