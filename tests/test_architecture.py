"""The layout holds: every module imports only what ARCHITECTURE.md allows it, and nothing cycles."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "forecast_tracker"


def declared_rules() -> dict[str, set[str]]:
    rules = {}
    for line in (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rules[cells[0].strip("`")] = set(re.findall(r"`([\w.]+)`", cells[1]))
    return rules


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Internal modules `path` imports anywhere in its body, lazy and type-checking imports included."""
    name = module_name(path)
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    if name == "__init__":
        package = []
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = [*base, *(node.module.split(".") if node.module else [])]
            if node.module is None or (PACKAGE.joinpath(*target).is_dir() and not (PACKAGE / f"{'/'.join(target)}.py").exists()):
                # `from . import api` or `from .. import store`: the names are modules
                found.update(".".join([*target, alias.name]) for alias in node.names)
            else:
                found.add(".".join(target))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("forecast_tracker"):
            found.add(node.module.removeprefix("forecast_tracker").lstrip(".") or "__init__")
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("forecast_tracker.") for a in node.names if a.name.startswith("forecast_tracker."))
    return {m for m in found if m and m != name}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_is_in_the_table():
    assert set(graph()) == set(declared_rules())


def test_every_import_is_allowed():
    rules = declared_rules()
    wrong = {m: sorted(found - rules[m]) for m, found in graph().items() if found - rules.get(m, set())}
    assert wrong == {}


def test_the_cli_reaches_only_the_api():
    # the package itself only for `__version__`; `serve` starts the web face beside it, which calls the API too
    assert graph()["cli"] == {"api", "errors", "__init__", "web.app", "web.security"}
    assert graph()["web.app"] - {"web.security", "scorecard.filters", "validate", "__init__"} == {"api", "errors"}


def test_no_cycles():
    edges = graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            assert state.get(nxt) != 1, "cycle: " + " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def test_the_rule_reader_sees_lazy_imports(tmp_path):
    # guard the guard: an import inside a function is found
    probe = PACKAGE / "validate.py"
    assert "errors" in imports_of(probe)
    assert imports_of(PACKAGE / "api.py") >= {"io.importing", "scorecard.render"}  # both are lazy in api


def test_no_function_is_long_without_a_reason():
    long = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 60:
                header = " ".join(lines[node.lineno - 1 : node.lineno + 3])
                if "long because" not in header:
                    long.append(f"{path.name}:{node.name}")
    assert long == []
