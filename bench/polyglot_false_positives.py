"""False positives of the polyglot check on ordinary photos, compared with the previous rule.

Run: `uv run python bench/polyglot_false_positives.py [--random N] [--megapixels MP]`.

Two sets of files that hold nothing but a picture:
- every shared test photo, enlarged to about 12 MP and saved at quality 92 (baseline) and 95
  (progressive), with the photo's EXIF kept, i.e. ~2-7 MB camera-like JPEGs;
- N synthetic JPEGs of random content (smooth shapes, texture and sensor-like noise, random
  quality and chroma subsampling) of the given size.
Each file goes through `foreign_content` (the check uploads get) and through the previous rule (a
bare `<script`, `<?php`, `<html`, `<svg` or `<!doctype html` anywhere), and the counts, the bytes
scanned and the rates (per file and per 4.4 MB) are printed as JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from headshot.imaging.polyglot import foreign_content

REPO = Path(__file__).resolve().parents[1]
PREVIOUS_RULE = re.compile(rb"<script|<\?php|<html|<svg|<!doctype html", re.IGNORECASE)
CAMERA_BYTES = 4.4e6


def testdata() -> Path:
    return Path(os.environ.get("HEADSHOT_TESTDATA", REPO.parent / "shared" / "testdata"))


def reencoded_test_photos() -> Iterator[bytes]:
    paths = sorted(testdata().glob("*/*.jpg")) + sorted(testdata().glob("*/*.png"))
    for path in paths:
        image = Image.open(path)
        exif = image.info.get("exif", b"")
        rgb = image.convert("RGB")
        scale = (12e6 / (rgb.width * rgb.height)) ** 0.5
        size = (round(rgb.width * scale), round(rgb.height * scale))
        big = rgb.resize(size, Image.Resampling.BICUBIC)
        for quality, progressive in ((92, False), (95, True)):
            out = io.BytesIO()
            big.save(out, "JPEG", quality=quality, progressive=progressive, exif=exif)
            yield out.getvalue()


def random_photo(rng: np.random.Generator, megapixels: float) -> bytes:
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = int(width * 3 / 4)
    coarse = rng.integers(0, 256, (height // 64 + 2, width // 64 + 2, 3), dtype=np.uint8)
    smooth = np.asarray(Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC))
    texture = rng.normal(0, rng.uniform(2, 14), (height, width, 1))
    pixels = np.clip(smooth + texture, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    quality = int(rng.integers(80, 98))
    subsampling = int(rng.choice([0, 1, 2]))
    Image.fromarray(pixels).save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


def count(files: Iterator[bytes], label: str) -> dict[str, object]:
    new = previous = scanned = total = 0
    examples: list[str] = []
    started = time.monotonic()
    for data in files:
        total += 1
        scanned += len(data)
        reason = foreign_content(data)
        if reason is not None:
            new += 1
            examples.append(reason)
        previous += PREVIOUS_RULE.search(data) is not None
        if total % 200 == 0:
            print(f"{label}: {total} files", file=sys.stderr)
    mb = scanned / 1e6
    return {
        "set": label,
        "files": total,
        "mean_mb": round(mb / max(total, 1), 2),
        "refused_now": new,
        "refused_by_previous_rule": previous,
        "scanned_mb": round(mb),
        "camera_file_equivalents": round(mb * 1e6 / CAMERA_BYTES),
        "previous_rate_per_4_4mb": round(previous / mb * CAMERA_BYTES / 1e6, 5) if mb else 0,
        "now_reasons": examples[:5],
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--random", type=int, default=500, help="synthetic photos")
    parser.add_argument("--megapixels", type=float, default=3.0, help="their size")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    results = [
        count(reencoded_test_photos(), "test photos re-encoded at ~12 MP"),
        count(
            (random_photo(rng, args.megapixels) for _ in range(args.random)),
            f"random content, {args.megapixels:g} MP",
        ),
    ]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
