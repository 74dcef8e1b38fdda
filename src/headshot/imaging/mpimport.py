"""Importing mediapipe's legacy solutions without matplotlib (a faster cold start).

`import mediapipe` runs `mediapipe/python/solutions/__init__.py`, which imports `drawing_utils`,
which imports `matplotlib.pyplot`: 1.5-2.5 s of a ~2.5 s import on the 2-core VM, for a module
the face models never use. In mediapipe 0.10.21, `drawing_utils` touches `plt` only inside
`plot_landmarks` (a debugging plot); no solution module calls `drawing_utils` or
`drawing_styles`. So while mediapipe is imported, `matplotlib` and `matplotlib.pyplot` are
stand-ins that refuse any use, and they are removed right after: a later
`import matplotlib.pyplot` anywhere gets the real one.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from pathlib import Path
from typing import NoReturn

# Stand in only for the mediapipe release whose sources were checked (see the docstring).
CHECKED_VERSION = "0.10.21"
_STUBBED = ("matplotlib", "matplotlib.pyplot")
_lock = threading.Lock()


class _Unavailable(types.ModuleType):
    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError(
            f"{self.__name__}.{name}: matplotlib was not loaded with mediapipe; "
            "mediapipe's plotting helpers are unavailable in this process."
        )


def import_solution(name: str) -> types.ModuleType:
    """`mediapipe.python.solutions.<name>`, importing mediapipe without matplotlib if needed."""
    module = f"mediapipe.python.solutions.{name}"
    if "mediapipe" in sys.modules or not _is_checked_release():
        return importlib.import_module(module)
    with _lock:
        stubs = {n: _Unavailable(n) for n in _STUBBED if n not in sys.modules}
        if len(stubs) != len(_STUBBED):  # matplotlib is (partly) loaded already: nothing to save
            return importlib.import_module(module)
        # `import matplotlib.pyplot as plt` reads the attribute from the parent module.
        stubs["matplotlib"].__dict__["pyplot"] = stubs["matplotlib.pyplot"]
        sys.modules.update(stubs)
        try:
            return importlib.import_module(module)
        finally:
            for stub_name, stub in stubs.items():
                if sys.modules.get(stub_name) is stub:
                    del sys.modules[stub_name]


def _is_checked_release() -> bool:
    # Read the version from the package source without importing it (importlib.metadata would
    # cost ~80 ms here, a twentieth of the cold-start budget).
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or spec.origin is None:
        return False
    try:
        source = Path(spec.origin).read_text(encoding="utf-8")
    except OSError:
        return False
    return f"__version__ = '{CHECKED_VERSION}'" in source
