"""Studio engine contact sheet: every look rendered from the person test set, with the edge
deviation of each image (see `headshot.engines.studio.edges`) and the render time.

Run: `uv run python bench/studio_sheet.py [--out bench/out/studio] [--width 1024 --height 1280]`.
The photos are validated as an upload would be; the accepted ones' training crops train the
studio, then look k (backgrounds x lightings) is rendered with seed k. Images and the sheet go
to the output folder (ignored by git: the test photos show a real person, so generated
headshots of him are never committed); the table printed at the end is what docs/studio.md
quotes. Set HEADSHOT_TESTDATA if the shared test data is not at `<repo>/../shared/testdata`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from headshot.domain.styles import BACKGROUNDS, LIGHTING
from headshot.engines.protocol import TrainingImage, TrainingRequest
from headshot.engines.studio import StudioEngine, StudioModels
from headshot.engines.studio.edges import edge_deviation
from headshot.engines.studio.package import read_manifest, read_portrait
from headshot.engines.studio.render import encode_jpeg, render
from headshot.imaging.models import FaceModels
from headshot.imaging.pipeline import PhotoValidator
from headshot.imaging.thresholds import ValidationThresholds

REPO = Path(__file__).resolve().parents[1]
THUMB = (256, 320)
LABEL_HEIGHT = 30


def person_dir() -> Path:
    root = Path(os.environ.get("HEADSHOT_TESTDATA", REPO.parent / "shared" / "testdata"))
    return root / "person"


def training_images(models: FaceModels) -> tuple[list[TrainingImage], list[str]]:
    """The accepted photos' training crops, as the service stores them; and the refused names."""
    validator = PhotoValidator(ValidationThresholds(), models=models)
    images, refused = [], []
    for path in sorted(person_dir().glob("*.jpg")):
        outcome = validator.analyze(path.read_bytes(), filename=path.name)
        if outcome.training_jpeg is None:
            refused.append(path.name)
        else:
            images.append(TrainingImage(path.name, outcome.training_jpeg))
    return images, refused


def sheet(tiles: list[tuple[Image.Image, str]], columns: int) -> Image.Image:
    rows = (len(tiles) + columns - 1) // columns
    cell = (THUMB[0], THUMB[1] + LABEL_HEIGHT)
    canvas = Image.new("RGB", (cell[0] * columns, cell[1] * rows), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for index, (image, label) in enumerate(tiles):
        x, y = (index % columns) * cell[0], (index // columns) * cell[1]
        canvas.paste(image.resize(THUMB, Image.Resampling.LANCZOS), (x, y))
        draw.text((x + 4, y + THUMB[1] + 2), label, fill=(0, 0, 0))
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "studio")
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--height", type=int, default=1280)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    models = FaceModels()
    engine = StudioEngine(models=StudioModels(faces=models))
    images, refused = training_images(models)
    started = time.perf_counter()
    model = engine.train(TrainingRequest("bench", tuple(images), trigger_phrase="x", steps=0))
    train_s = time.perf_counter() - started
    count = len(read_manifest(model.artifact)["portraits"])
    portraits = [read_portrait(model.artifact, index) for index in range(count)]
    looks = [(b.id, light.id) for b in BACKGROUNDS for light in LIGHTING]
    rows, tiles, timings = [], [], []
    for seed, (background, lighting) in enumerate(looks):
        portrait = portraits[seed % count]
        started = time.perf_counter()
        rendered = render(
            portrait,
            background=background,
            lighting=lighting,
            width=args.width,
            height=args.height,
            seed=seed,
        )
        timings.append(time.perf_counter() - started)
        score = edge_deviation(rendered.pixels, rendered.alpha)
        name = f"{seed:02d}-{background}-{lighting}.jpg"
        (args.out / name).write_bytes(encode_jpeg(rendered.pixels))
        matte = np.round(rendered.alpha * 255.0).astype(np.uint8)
        Image.fromarray(matte).save(args.out / f"{seed:02d}-matte.png")
        tiles.append((Image.fromarray(rendered.pixels), f"{seed} {background} {lighting} {score}"))
        rows.append(
            {
                "image": name,
                "source": portrait.name,
                "edge_deviation": score,
                "effective": [rendered.effective_width, rendered.effective_height],
            }
        )
    sheet(tiles, columns=len(LIGHTING)).save(args.out / "sheet.png")
    scores = [row["edge_deviation"] for row in rows]
    summary = {
        "accepted": len(images),
        "refused": refused,
        "portraits": [p.name for p in portraits],
        "train_s": round(train_s, 2),
        "render_ms_median": round(statistics.median(timings) * 1000, 1),
        "render_ms_p95": round(statistics.quantiles(timings, n=20)[18] * 1000, 1),
        "edge_deviation_median": round(statistics.median(scores), 3),
        "images": rows,
    }
    (args.out / "scores.json").write_text(json.dumps(summary, indent=2))
    report(summary)


def report(summary: dict[str, object]) -> None:
    print(f"accepted {summary['accepted']}, refused {summary['refused']}")
    print(f"train {summary['train_s']} s; render median {summary['render_ms_median']} ms,")
    print(f"p95 {summary['render_ms_p95']} ms; edge deviation median")
    print(f"{summary['edge_deviation_median']}\n")
    print("| image | source | edge deviation | effective size |")
    print("|---|---|---|---|")
    images = summary["images"]
    assert isinstance(images, list)
    for row in images:
        width, height = row["effective"]
        print(f"| {row['image']} | {row['source']} | {row['edge_deviation']} | {width}x{height} |")


if __name__ == "__main__":
    main()
