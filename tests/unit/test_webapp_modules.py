"""The web app's ES modules form no import circle, the entry module only boots, and the service
worker caches every module (so the app starts offline). Read from the `import` statements."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "src" / "headshot" / "webapp" / "static"
JS = STATIC / "js"
# `import ... from "./x.js"`, `import "./x.js"` and `export ... from "./x.js"`, over several lines.
IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^;'"]*?(?:\bfrom\s*)?["']([^"']+)["']""", re.M | re.S
)


def imports_of(source: str) -> list[str]:
    return [spec for spec in IMPORT.findall(source) if spec.startswith(".")]


def module_graph(root: Path) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.js")):
        name = path.relative_to(root).as_posix()
        targets = {
            (path.parent / spec).resolve().relative_to(root.resolve()).as_posix()
            for spec in imports_of(path.read_text())
        }
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path that starts and ends at the same module, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_parser_reads_every_form() -> None:
    source = (
        'import { a } from "./a.js";\nimport * as b from "../b.js";\nimport "./c.js";\n'
        'export { d } from "./d.js";\nimport {\n  e,\n  f,\n} from "./e.js";\n'
        'const x = "./no.js";\n'
    )
    assert imports_of(source) == ["./a.js", "../b.js", "./c.js", "./d.js", "./e.js"]


def test_a_circle_is_found(tmp_path: Path) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "main.js").write_text('import { v } from "./views/v.js";\n')
    (tmp_path / "views" / "v.js").write_text('import { app } from "../main.js";\n')
    assert find_cycle(module_graph(tmp_path)) == ["main.js", "views/v.js", "main.js"]


def test_the_web_app_has_no_import_circle() -> None:
    graph = module_graph(JS)
    assert "router.js" in graph and graph["main.js"], "the modules were not read"
    assert find_cycle(graph) is None


def test_no_module_imports_the_entry_module() -> None:
    importers = [name for name, targets in module_graph(JS).items() if "main.js" in targets]
    assert importers == []


@pytest.mark.parametrize("path", sorted(p.relative_to(STATIC).as_posix() for p in JS.rglob("*.js")))
def test_the_service_worker_caches_every_module(path: str) -> None:
    assert f'"/app/{path}"' in (STATIC / "sw.js").read_text()
