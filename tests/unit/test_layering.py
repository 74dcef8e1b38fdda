"""The dependency directions drawn in docs/architecture.md, and no import circles.

Imports are read from the source (AST), including imports inside functions, since a deferred
import is still a dependency; imports under `if TYPE_CHECKING:` count for the layers (they are
dependencies of the types) but not for circles (they never run).
"""

from __future__ import annotations

import ast
import graphlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "headshot"

# layer -> the layers it may import. A layer is a top-level subpackage or module of `headshot`.
ALLOWED: Mapping[str, frozenset[str]] = {
    "domain": frozenset(),
    # The product collector names the snapshot type it reads (imported for type checking only).
    "observability": frozenset({"services"}),
    "imaging": frozenset({"domain"}),
    "storage": frozenset({"domain"}),
    "settings": frozenset({"domain", "imaging"}),
    "engines": frozenset({"domain", "imaging"}),
    "services": frozenset({"domain", "storage", "imaging", "engines", "settings", "observability"}),
    "jobs": frozenset({"domain", "storage", "services", "observability"}),
    "api": frozenset({"domain", "services", "engines", "settings", "observability"}),
    "server": frozenset({"domain", "settings", "observability"}),
    "webapp": frozenset(),
    "wiring": frozenset(
        {"domain", "storage", "imaging", "engines", "settings", "observability", "services", "jobs"}
    ),
    "entrypoints": frozenset(
        {
            "domain",
            "storage",
            "settings",
            "observability",
            "services",
            "jobs",
            "api",
            "server",
            "wiring",
        }
    ),
    "cli": frozenset(
        {
            "api",  # `headshot stats --json` prints the API's own shape
            "domain",
            "storage",
            "imaging",
            "engines",
            "settings",
            "services",
            "server",
            "wiring",
            "entrypoints",
        }
    ),
    "__main__": frozenset({"cli"}),
}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (or the package, for a name it exports)
    line: int
    runs: bool  # False under `if TYPE_CHECKING:`


def modules(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(root: Path, package: str = PACKAGE) -> Iterator[Import]:
    known = modules(root, package)

    def resolve(name: str) -> str | None:
        while name not in known and "." in name:
            name = name.rsplit(".", 1)[0]
        return name if name in known else None

    for source, path in known.items():
        yield from _Visitor(source, package, known, resolve).run(path)


class _Visitor(ast.NodeVisitor):
    def __init__(
        self,
        source: str,
        package: str,
        known: Mapping[str, Path],
        resolve: Callable[[str], str | None],
    ) -> None:
        self.source, self.package, self.known = source, package, known
        self.resolve = resolve
        self.found: list[Import] = []
        self.runs = True

    def run(self, path: Path) -> list[Import]:
        self.visit(ast.parse(path.read_text(encoding="utf-8")))
        return self.found

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            self.runs = False
            for child in node.body:
                self.visit(child)
            self.runs = True
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or not node.module:
            return
        for alias in node.names:
            submodule = f"{node.module}.{alias.name}"
            self._add(submodule if submodule in self.known else node.module, node.lineno)

    def _add(self, name: str, line: int) -> None:
        if name != self.package and not name.startswith(f"{self.package}."):
            return
        target = self.resolve(name)
        if target is not None and target != self.source:
            self.found.append(Import(self.source, target, line, self.runs))


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def wrong_way(root: Path, package: str = PACKAGE) -> list[str]:
    """Every import that crosses layers against `ALLOWED` (or from a layer it does not know)."""
    found = []
    for imp in imports(root, package):
        source, target = layer(imp.source), layer(imp.target)
        if target == PACKAGE:
            continue  # the package itself holds only its version
        if source != target and target not in ALLOWED.get(source, frozenset()):
            found.append(f"{imp.source}:{imp.line} imports {imp.target} ({source} -> {target})")
    return found


def circles(root: Path, package: str = PACKAGE) -> list[str]:
    """The modules of an import circle (one, if there are several), or [] when there is none."""
    graph: dict[str, set[str]] = {}
    for imp in imports(root, package):
        if imp.runs:
            graph.setdefault(imp.source, set()).add(imp.target)
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        return sorted(set(error.args[1]))
    return []


def test_every_import_goes_the_way_the_architecture_draws() -> None:
    assert wrong_way(SOURCE) == []


def test_no_import_circles() -> None:
    assert circles(SOURCE) == []


def test_the_architecture_page_draws_these_rules() -> None:
    page = SOURCE.parent / "docs" / "architecture.md"
    rows = re.findall(r"^\| `([\w_]+)` \| (.+) \|$", page.read_text(encoding="utf-8"), re.M)
    drawn = {name: frozenset(re.findall(r"`([\w_]+)`", allowed)) for name, allowed in rows}
    assert drawn == ALLOWED


def test_every_layer_has_a_rule() -> None:
    assert {layer(m) for m in modules(SOURCE)} - {PACKAGE} <= set(ALLOWED)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A small package laid out like ours, to show the checks catch what they should."""
    for name, text in {
        "__init__.py": "",
        "domain/__init__.py": "",
        "services/__init__.py": "",
        "services/photos.py": "from headshot.domain import rules\n",
        "domain/rules.py": "X = 1\n",
        "api/__init__.py": "",
        "api/routes.py": "from headshot.services.photos import *\n",
    }.items():
        path = tmp_path / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_wrong_way_import_is_caught(tiny: Path) -> None:
    assert wrong_way(tiny) == [] and circles(tiny) == []
    (tiny / PACKAGE / "services" / "photos.py").write_text(
        "from headshot.domain import rules\n\ndef later():\n    from headshot.api import routes\n"
    )
    assert wrong_way(tiny) == [
        "headshot.services.photos:4 imports headshot.api.routes (services -> api)"
    ]
    assert circles(tiny) == ["headshot.api.routes", "headshot.services.photos"]


def test_imports_only_for_type_checking_make_no_circle(tiny: Path) -> None:
    (tiny / PACKAGE / "domain" / "rules.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from headshot.services.photos import later\n"
    )
    assert circles(tiny) == []
    assert wrong_way(tiny) == [
        "headshot.domain.rules:3 imports headshot.services.photos (domain -> services)"
    ]
