"""The folder `headshot run` fills: `headshot-<background>-<attire>-<lighting>-<n>.jpg` per image,
`model/<artifact_name>`, and a `run.json` manifest that says how each file was made."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from headshot.engines.protocol import GeneratedImage, GenerationRequest, TrainedModel

MANIFEST = "run.json"
MANIFEST_VERSION = 1
_SUFFIXES = {"image/png": ".png", "image/webp": ".webp"}  # anything else is a JPEG


class OutputFolder:
    """Writes files as they are made, so an interrupted run keeps what it finished."""

    def __init__(self, root: Path, *, requests: Sequence[GenerationRequest]) -> None:
        self.root = root
        self._requests = requests
        self.files: list[str] = []
        self._model: dict[str, Any] | None = None
        self._images: dict[int, list[dict[str, Any]]] = {}

    @property
    def requests(self) -> Sequence[GenerationRequest]:
        return self._requests

    def save_model(self, model: TrainedModel) -> None:
        # The provider names the artifact; keep only a plain file name from it.
        name = Path(model.artifact_name).name or "model.bin"
        relative = f"model/{name}"
        self._write(relative, model.artifact)
        self._model = {
            "file": relative,
            "bytes": len(model.artifact),
            "sha256": hashlib.sha256(model.artifact).hexdigest(),
        }

    def save_image(self, look_index: int, index: int, image: GeneratedImage) -> None:
        look = self._requests[look_index].look
        suffix = _SUFFIXES.get(image.media_type, ".jpg")
        name = f"headshot-{look.background}-{look.attire}-{look.lighting}-{index + 1}{suffix}"
        self._write(name, image.image)
        self._images.setdefault(look_index, []).append(
            {
                "file": name,
                "seed": image.seed,
                "width": image.width,
                "height": image.height,
                "flagged_nsfw": image.flagged_nsfw,
            }
        )

    def write_manifest(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`run.json`: the given fields plus the model, the looks with their images, the files."""
        looks = [
            {
                "background": request.look.background,
                "attire": request.look.attire,
                "lighting": request.look.lighting,
                "prompt": request.prompt,
                "seed": request.seed,
                "images": self._images.get(index, []),
            }
            for index, request in enumerate(self._requests)
        ]
        manifest = {
            "version": MANIFEST_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **fields,
            "model": self._model,
            "looks": looks,
            "files": list(self.files),
        }
        self._write(MANIFEST, json.dumps(manifest, indent=2).encode(), listed=False)
        return manifest

    def _write(self, relative: str, content: bytes, *, listed: bool = True) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a crash never leaves a half-written image under its final name.
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(content)
        partial.replace(path)
        if listed:
            self.files.append(relative)
