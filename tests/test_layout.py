"""The package's layout rules, read from its source: one layer per stage, nothing private crossing a
module boundary, no import cycle, no function over 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PRIVATE_MODULES = {"_arrays", "_checks"}  # the package's own helper modules, shared by design
MAX_FUNCTION_LINES = 60


def modules() -> dict[str, ast.Module]:
    """Dotted module name -> its parsed source, for every module of ``specdec`` (a package under its
    own name, its ``__init__`` source parsed with ``is_package`` set on the tree)."""
    out = {}
    for f in sorted((SRC / "specdec").rglob("*.py")):
        name = ".".join(f.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(f.read_text(encoding="utf-8"))
        out[name].is_package = f.name == "__init__.py"
    return out


def absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module an ``ImportFrom`` in ``module`` names, relative imports (``from .x import y``,
    ``from .. import z``) resolved."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def imports(mods: dict[str, ast.Module]) -> dict[str, set[tuple[str, str]]]:
    """Module -> the (module, name) pairs it imports from ``specdec``, wherever the import stands;
    ``import specdec.x`` gives ``("specdec.x", "")``."""
    out: dict[str, set[tuple[str, str]]] = {}
    for name, tree in mods.items():
        found = out.setdefault(name, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = absolute(name, getattr(tree, "is_package", False), node)
                if source.startswith("specdec"):
                    found |= {(source, a.name) for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {(a.name, "") for a in node.names if a.name.startswith("specdec")}
    return out


def private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__") and part not in PRIVATE_MODULES


def private_imports(mods: dict[str, ast.Module]) -> list[str]:
    """Each import of an underscored name, or from an underscored module, across a module boundary."""
    return [
        f"{mod} imports {name or source} from {source}" if name else f"{mod} imports {source}"
        for mod, pairs in imports(mods).items()
        for source, name in pairs
        if private(name) or any(private(part) for part in source.split("."))
    ]


def test_no_private_name_crosses_a_module_boundary():
    bad = private_imports(modules())
    assert not bad, "\n".join(bad)


def test_private_imports_are_found_in_every_spelling():
    """Relative imports and ``import specdec.x._y`` are read too; the helper modules pass."""
    sources = {
        "specdec.core": ("from ._hidden import x\n", True),
        "specdec.core.rows": ("from ..sampling import _sample\nfrom .. import _checks\n", False),
        "specdec.decode": ("import specdec.core._hidden\nfrom specdec.core import rows\n", False),
    }
    mods = {}
    for name, (text, is_package) in sources.items():
        mods[name] = ast.parse(text)
        mods[name].is_package = is_package
    assert sorted(private_imports(mods)) == [
        "specdec.core imports x from specdec.core._hidden",
        "specdec.core.rows imports _sample from specdec.sampling",
        "specdec.decode imports specdec.core._hidden",
    ]


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
