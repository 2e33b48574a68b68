"""The package's layout rules, read from its source: one layer per stage, nothing private crossing a
module boundary, no import cycle, no function over 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PRIVATE_MODULES = {"_arrays", "_checks"}  # the package's own helper modules, shared by design
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, ast.Module]:
    """Dotted module name -> its parsed source, for every module of ``specdec``."""
    out = {}
    for f in sorted((SRC / "specdec").rglob("*.py")):
        name = ".".join(f.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(f.read_text(encoding="utf-8"))
    return out


def imports(mods: dict[str, ast.Module]) -> dict[str, set[tuple[str, str]]]:
    """Module -> the (module, name) pairs it imports from ``specdec``, wherever the import stands."""
    out: dict[str, set[tuple[str, str]]] = {}
    for name, tree in mods.items():
        found = out.setdefault(name, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("specdec"):
                found |= {(node.module, a.name) for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {(a.name, "") for a in node.names if a.name.startswith("specdec")}
    return out


def test_no_private_name_crosses_a_module_boundary():
    bad = [
        f"{mod} imports {name} from {source}"
        for mod, pairs in imports(modules()).items()
        for source, name in pairs
        if name.startswith("_") and not name.startswith("__") and name not in PRIVATE_MODULES
    ]
    assert not bad, "\n".join(bad)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph ``edges`` (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_modules_import_no_cycle():
    """Each import points at the module it names (``from specdec.core import verify`` at
    ``specdec.core.verify``, ``from specdec.core.verify import x`` at the same), including imports
    inside functions."""
    mods = modules()
    edges = {
        mod: {f"{source}.{name}" if f"{source}.{name}" in mods else source for source, name in pairs}
        for mod, pairs in imports(mods).items()
    }
    assert find_cycle(edges) is None, find_cycle(edges)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_function_is_longer_than_sixty_lines():
    long = [
        f"{mod}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for mod, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, "\n".join(long)
