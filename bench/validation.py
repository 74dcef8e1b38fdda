"""Photo validation benchmark: warm latency (12 MP JPEG and HEIC), model cold start, peak RSS.

Run: `uv run python bench/validation.py [--runs N]`. The 12 MP fixture is made at run time from
`pd_obama_portrait_2012.jpg` (see testdata/faces/PROVENANCE.md); set HEADSHOT_TESTDATA if the
shared test data is not at `<repo>/../shared/testdata`. The validator's peak RSS is measured in a
fresh process (models, then three analyses of each fixture): this process's own peak also holds
the x265 encoder that made the HEIC fixture.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image

from headshot.imaging.decode import decode
from headshot.imaging.heif import ensure_heif_opener
from headshot.imaging.pipeline import PhotoValidator
from headshot.imaging.thresholds import ValidationThresholds

REPO = Path(__file__).resolve().parents[1]
LIMITS = {"max_pixels": 60_000_000, "max_side": 20_000}
COLD = (
    "import time; t = time.perf_counter();"
    "from headshot.imaging.models import FaceModels; FaceModels().warm();"
    "print(time.perf_counter() - t)"
)


def faces_dir() -> Path:
    root = Path(os.environ.get("HEADSHOT_TESTDATA", REPO.parent / "shared" / "testdata"))
    return root / "faces" if (root / "faces").is_dir() else root


def twelve_megapixels(fmt: str) -> bytes:
    source = Image.open(faces_dir() / "pd_obama_portrait_2012.jpg")
    image = source.crop((0, 0, 910, 682)).resize((4032, 3024))
    out = io.BytesIO()
    image.save(out, format=fmt, quality=90)
    return out.getvalue()


def percentiles(run: Callable[[], object], runs: int) -> tuple[float, float]:
    run()  # warm caches and lazily loaded models
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def cold_start() -> float:
    out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def validator_rss_mib(fixtures: list[bytes]) -> float:
    """Peak RSS of a fresh process that loads the models and analyses each fixture three times."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, data in enumerate(fixtures):
            path = Path(folder) / f"fixture{index}"
            path.write_bytes(data)
            paths.append(str(path))
        command = [sys.executable, __file__, "--rss-of", *paths]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def rss_probe(paths: list[str]) -> None:
    ensure_heif_opener()
    validator = PhotoValidator(ValidationThresholds())
    validator.models.warm()
    for path in paths:
        data = Path(path).read_bytes()
        for _ in range(3):
            validator.analyze(data, filename="x")
    # VmHWM belongs to the address space made at exec; ru_maxrss would keep the parent's peak,
    # counted in the forked child before the exec.
    status = Path("/proc/self/status").read_text().splitlines()
    print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rss-of", nargs="+", help=argparse.SUPPRESS)  # the RSS subprocess
    args = parser.parse_args()
    if args.rss_of:
        rss_probe(args.rss_of)
        return
    ensure_heif_opener()
    validator = PhotoValidator(ValidationThresholds())
    rows = []
    fixtures = []
    for label, fmt in (("12 MP JPEG", "JPEG"), ("12 MP HEIC", "HEIF")):
        data = twelve_megapixels(fmt)
        fixtures.append(data)
        # The pipeline decodes JPEG reduced (draft) and HEIF at full size; time the same decode.
        target = 1024 if fmt == "JPEG" else None
        full = percentiles(partial(validator.analyze, data, filename="x"), args.runs)
        dec = percentiles(partial(decode, data, **LIMITS, target_long_side=target), args.runs)
        rows.append((f"{label}: analyze, all outputs", *full))
        rows.append((f"{label}: of which the decode", *dec))
    cold = [cold_start() for _ in range(3)]
    own_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_mib = validator_rss_mib(fixtures)
    print(f"{'measure':45s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for name, p50, p95 in rows:
        print(f"{name:45s} {p50:8.1f} {p95:8.1f}")
    print(f"{'cold start (import + load all models), s':45s} {min(cold):8.2f} {max(cold):8.2f}")
    print(f"{'peak RSS, validator process, MiB':45s} {rss_mib:8.0f}")
    print(f"{'peak RSS, this process (+ HEIC encoder), MiB':45s} {own_rss_mib:8.0f}")
    print(f"cpus={os.cpu_count()} runs={args.runs}")


if __name__ == "__main__":
    main()
