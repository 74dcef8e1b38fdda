"""`headshot validate` through typer's CliRunner: JSON contract and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from headshot.cli.validate import validate_command


def app() -> typer.Typer:
    cli = typer.Typer()
    cli.command()(validate_command)
    return cli


def test_json_report_and_not_ready_exit(faces: Path, tmp_path: Path) -> None:
    for name in ("pd_obama_portrait_2012.jpg", "d_obama_blur_r4.jpg", "cc0_coffee.jpg"):
        shutil.copy(faces / name, tmp_path / name)
    (tmp_path / "notes.txt").write_text("ignored: not an image suffix")
    (tmp_path / "fake.jpg").write_text("not a photo")
    result = CliRunner().invoke(app(), [str(tmp_path), "--json"])
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    by_name = {p["filename"]: p for p in body["photos"]}
    assert set(by_name) == {
        "pd_obama_portrait_2012.jpg",
        "d_obama_blur_r4.jpg",
        "cc0_coffee.jpg",
        "fake.jpg",
    }
    assert by_name["pd_obama_portrait_2012.jpg"]["accepted"] is True
    assert by_name["d_obama_blur_r4.jpg"]["findings"][0]["code"] == "sharpness"
    assert by_name["fake.jpg"]["findings"][0]["code"] == "format"
    assert set(body["set"]) == {
        "ready",
        "accepted_count",
        "required_count",
        "findings",
        "diversity",
    }
    assert body["set"]["accepted_count"] == 1


def test_set_findings_name_files(faces: Path, tmp_path: Path) -> None:
    """A duplicate is named by its file in both outputs, not only by its position."""
    for name in ("pd_obama_portrait_2012.jpg", "d_obama_dup_q40.jpg", "pd_grace_hopper.jpg"):
        shutil.copy(faces / name, tmp_path / name)
    body = json.loads(CliRunner().invoke(app(), [str(tmp_path), "--json"]).stdout)
    named = {f["code"]: f["photos"] for f in body["set"]["findings"] if f["photos"]}
    assert named == {"duplicate": ["d_obama_dup_q40.jpg"], "identity": ["pd_grace_hopper.jpg"]}
    ids = {p["filename"]: p["id"] for p in body["photos"]}
    duplicate = next(f for f in body["set"]["findings"] if f["code"] == "duplicate")
    assert duplicate["photo_ids"] == [ids["d_obama_dup_q40.jpg"]]
    table = CliRunner().invoke(app(), [str(tmp_path)], env={"COLUMNS": "300"}).stdout
    line = next(x for x in table.splitlines() if "duplicate" in x)
    assert "(photos: d_obama_dup_q40.jpg)" in line


def test_table_output(faces: Path) -> None:
    result = CliRunner().invoke(app(), [str(faces / "pd_grace_hopper.jpg")])
    assert result.exit_code == 1
    assert "pd_grace_hopper.jpg" in result.stdout and "not ready" in result.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(app(), [str(tmp_path / "missing.jpg")]).exit_code == 2
    assert CliRunner().invoke(app(), [str(tmp_path)]).exit_code == 2


def test_honours_the_server_settings_and_min_photos(
    faces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = str(faces / "pd_obama_portrait_2012.jpg")
    default = json.loads(CliRunner().invoke(app(), [photo, "--json"]).stdout)["set"]
    assert default["required_count"] == 10 and default["ready"] is False

    monkeypatch.setenv("HEADSHOT_VALIDATION__MIN_PHOTOS", "3")
    configured = json.loads(CliRunner().invoke(app(), [photo, "--json"]).stdout)["set"]
    assert configured["required_count"] == 3

    flag = CliRunner().invoke(app(), [photo, "--json", "--min-photos", "1"])
    assert json.loads(flag.stdout)["set"]["required_count"] == 1
    assert flag.exit_code == 0  # one good photo is a ready set when one is enough

    monkeypatch.setenv("HEADSHOT_VALIDATION__MIN_SHORT_SIDE", "5000")
    strict = json.loads(CliRunner().invoke(app(), [photo, "--json"]).stdout)["photos"][0]
    assert "resolution" in {f["code"] for f in strict["findings"]}
