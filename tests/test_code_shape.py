"""The shape of the app code, read with `ast` (no imports, no database):

- no function over 60 lines;
- no private name (`_x`) of another module used: neither imported
  (`from m import _x`) nor reached through an imported module (`m._x`);
- no module over 600 lines.

Today's offenders are listed below, each with its size. The lists may only
shrink: a new offender fails, an offender that grew fails, and one that is gone
(or smaller) fails until its entry is removed or lowered, so the allowance
never outlives the code. Migrations are generated and are not checked.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("core", "accounts", "config", "catalog", "remixing", "royalties", "marketplace")
MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 600

# What is left after the grab-bags were split (royalties, billing, the audit
# trail: none left there). Functions: "path:qualified name" -> lines.
LONG_FUNCTIONS: dict[str, int] = {}

# Modules over MAX_MODULE_LINES today: path -> lines.
LARGE_MODULES: dict[str, int] = {}

# Private names of other modules used today: "path -> module.name".
PRIVATE_IMPORTS: set[str] = set()

# Django's public API spelled with an underscore (Model._meta and its managers).
DJANGO_PUBLIC = frozenset({"_meta", "_default_manager", "_base_manager"})


def app_modules() -> Iterator[Path]:
    for app in APPS:
        folder = ROOT / app
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in DJANGO_PUBLIC


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """Every function and method, nested ones included, with its qualified name."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from functions(node, f"{name}.")
        else:
            yield from functions(node, prefix)


def function_lines(node: ast.AST) -> int:
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return node.end_lineno - start + 1


def imported_module(node: ast.ImportFrom, path: Path) -> str:
    """The absolute module name of a `from ... import` (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def private_uses(path: Path, tree: ast.AST) -> Iterator[str]:
    """Private names of other modules that `path` imports or reaches into."""
    here = module_name(path)
    modules: dict[str, str] = {}  # local name -> module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    modules[top] = top
        elif isinstance(node, ast.ImportFrom):
            source = imported_module(node, path)
            for alias in node.names:
                if is_private(alias.name) and source != here:
                    yield f"{source}.{alias.name}"
                modules[alias.asname or alias.name] = f"{source}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and is_private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and modules[node.value.id] != here
        ):
            yield f"{modules[node.value.id]}.{node.attr}"


def survey() -> tuple[dict[str, int], dict[str, int], set[str]]:
    long_functions: dict[str, int] = {}
    large_modules: dict[str, int] = {}
    private: set[str] = set()
    for path in app_modules():
        source = path.read_text()
        tree = ast.parse(source, filename=str(path))
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            large_modules[relative(path)] = lines
        for name, node in functions(tree):
            size = function_lines(node)
            if size > MAX_FUNCTION_LINES:
                long_functions[f"{relative(path)}:{name}"] = size
        private.update(f"{relative(path)} -> {use}" for use in private_uses(path, tree))
    return long_functions, large_modules, private


def compare(today: dict[str, int], allowed: dict[str, int], what: str) -> list[str]:
    problems = []
    for name, size in sorted(today.items()):
        if name not in allowed:
            problems.append(f"new {what}: {name} ({size} lines)")
        elif size > allowed[name]:
            problems.append(f"{what} grew: {name} ({allowed[name]} -> {size} lines)")
    for name, size in sorted(allowed.items()):
        if today.get(name, 0) < size:
            problems.append(
                f"allowance to shrink: {name} is {today.get(name, 'within the limit')}"
                f" (listed as {size} lines): lower or remove its entry"
            )
    return problems


def test_no_function_over_60_lines():
    long_functions, _, _ = survey()
    assert compare(long_functions, LONG_FUNCTIONS, "long function") == []


def test_no_module_over_600_lines():
    _, large_modules, _ = survey()
    assert compare(large_modules, LARGE_MODULES, "large module") == []


def test_no_private_name_used_across_modules():
    _, _, private = survey()
    assert sorted(private - PRIVATE_IMPORTS) == [], "private names of other modules used"
    assert sorted(PRIVATE_IMPORTS - private) == [], "allowance to remove: no longer used"


def test_the_survey_finds_what_it_looks_for(tmp_path):
    # The checks cannot pass by finding nothing: a known sample trips each one.
    sample = ast.parse(
        "from catalog.services import _get\n"
        "from catalog import jobs\n"
        "def long():\n" + "    x = 1\n" * 70 + "def short():\n    return jobs._fail(_get)\n"
    )
    path = ROOT / "marketplace" / "sample.py"
    assert [name for name, node in functions(sample) if function_lines(node) > 60] == ["long"]
    assert sorted(private_uses(path, sample)) == ["catalog.jobs._fail", "catalog.services._get"]
