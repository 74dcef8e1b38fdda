"""The studio model package: what `StudioEngine.train` returns and `generate` reads back. A zip
holding, per portrait, the framed photo (JPEG), its alpha matte (8-bit PNG) and one JSON file
describing them. Plain files, so a person can open their own model and see what it keeps."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from headshot.engines.protocol import EngineRejectedError
from headshot.engines.studio.matte import FaceRegion
from headshot.engines.studio.portrait import Portrait

FORMAT = "headshot-studio"
VERSION = 1
MANIFEST = "studio.json"
_JPEG_QUALITY = 93
_MAX_MEMBER_BYTES = 32 * 1024 * 1024  # a portrait is well under 1 MB; more means a foreign file
MSG_DAMAGED = "The studio model is damaged or is not a studio model. Train it again."


@dataclass(frozen=True)
class PackedPortrait:
    """A portrait as it is stored: a few hundred KB of JPEG and PNG instead of the arrays
    (about 9 MB at 1024 x 1280), so a training can hold all of its portraits cheaply."""

    photo: bytes  # JPEG of the foreground
    matte: bytes  # 8-bit PNG of the alpha
    entry: dict[str, Any]  # its manifest entry, less the member names

    @property
    def score(self) -> float:
        return float(self.entry["score"])


def pack_portrait(portrait: Portrait) -> PackedPortrait:
    return PackedPortrait(
        photo=_jpeg(portrait.foreground),
        matte=_png(portrait.alpha),
        entry=_entry(portrait),
    )


def write_package(portraits: Sequence[PackedPortrait], *, metadata: Mapping[str, Any]) -> bytes:
    entries = []
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for index, portrait in enumerate(portraits):
            photo, matte = f"portrait-{index}.jpg", f"matte-{index}.png"
            archive.writestr(photo, portrait.photo)
            # PNG is compressed already; storing keeps reading fast.
            archive.writestr(matte, portrait.matte)
            entries.append({**portrait.entry, "photo": photo, "matte": matte})
        manifest = {"format": FORMAT, "version": VERSION, **metadata, "portraits": entries}
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
    return out.getvalue()


def read_manifest(package: bytes) -> dict[str, Any]:
    with _open(package) as archive:
        return _manifest(archive)


def read_portrait(package: bytes, index: int) -> Portrait:
    """Portrait `index` (0-based) of the package; raises `EngineRejectedError` if damaged."""
    with _open(package) as archive:
        entries = _manifest(archive)["portraits"]
        try:
            entry = entries[index]
            rgb = np.asarray(_image(archive, entry["photo"]).convert("RGB"), dtype=np.uint8)
            matte = np.asarray(_image(archive, entry["matte"]).convert("L"), dtype=np.float32)
            face = FaceRegion(**{k: float(v) for k, v in entry["face"].items()})
            return Portrait(
                name=str(entry["source"]),
                foreground=rgb,
                alpha=matte / 255.0,
                face=face,
                yaw=float(entry["yaw"]),
                pitch=float(entry["pitch"]),
                roll=float(entry["roll"]),
                score=float(entry["score"]),
                crop=tuple(float(v) for v in entry["crop"]),
            )
        except (KeyError, IndexError, TypeError, ValueError, OSError) as exc:
            raise EngineRejectedError(MSG_DAMAGED) from exc


def _entry(portrait: Portrait) -> dict[str, Any]:
    height, width = portrait.alpha.shape
    return {
        "source": portrait.name,
        "width": width,
        "height": height,
        "face": {
            "centre_x": portrait.face.centre_x,
            "eye_y": portrait.face.eye_y,
            "chin_y": portrait.face.chin_y,
            "width": portrait.face.width,
        },
        "yaw": round(portrait.yaw, 2),
        "pitch": round(portrait.pitch, 2),
        "roll": round(portrait.roll, 2),
        "score": portrait.score,
        "crop": list(portrait.crop),
    }


def _open(package: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(package))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise EngineRejectedError(MSG_DAMAGED) from exc


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(_member(archive, MANIFEST))
    except (KeyError, ValueError) as exc:
        raise EngineRejectedError(MSG_DAMAGED) from exc
    portraits = manifest.get("portraits") if isinstance(manifest, dict) else None
    if manifest.get("format") != FORMAT or not isinstance(portraits, list) or not portraits:
        raise EngineRejectedError(MSG_DAMAGED)
    if manifest.get("version") != VERSION:
        raise EngineRejectedError("This studio model was made by another version. Train it again.")
    return dict(manifest)


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > _MAX_MEMBER_BYTES:
        raise EngineRejectedError(MSG_DAMAGED)
    return archive.read(info)


def _image(archive: zipfile.ZipFile, name: str) -> Image.Image:
    image = Image.open(io.BytesIO(_member(archive, name)), formats=("JPEG", "PNG"))
    image.load()
    return image


def _jpeg(rgb: np.ndarray[Any, np.dtype[np.uint8]]) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=_JPEG_QUALITY, subsampling="4:4:4")
    return out.getvalue()


def _png(alpha: np.ndarray[Any, np.dtype[np.float32]]) -> bytes:
    out = io.BytesIO()
    levels = np.round(np.clip(alpha, 0.0, 1.0) * 255.0).astype(np.uint8)
    Image.fromarray(levels).save(out, format="PNG", compress_level=6)
    return out.getvalue()
