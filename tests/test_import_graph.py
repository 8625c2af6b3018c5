"""The import rules of the product code, checked from the source itself.

These rules keep the layers apart: no import cycle between modules (a cycle hidden in a
function-level import is still a cycle: the two modules cannot be understood or tested apart),
nothing under ``ingest_app/core`` imports the rest of ``ingest_app`` (logic lives once in core and
the surfaces call it, never the reverse) nor ``devtools``, ``lambda_worker`` imports only
``ingest_app.core`` (the Lambda zip holds nothing else), the product (``ingest_app``,
``lambda_worker``) never imports the local tooling in ``devtools`` except inside the handler
function of a dev-only command under ``ingest_app/commands``, and no module imports another
module's ``_private`` name (a shared name gets a public name in one place). The graph is read
with ``ast`` so imports inside functions and under ``TYPE_CHECKING`` count, relative imports are
resolved against the importing package, and ``importlib.import_module(f"pkg.{name}")`` counts as
importing every module of ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ingest_app", "lambda_worker", "devtools")
PRODUCT = ("ingest_app", "lambda_worker")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names, relative levels resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str) -> str | None:
    """The longest prefix of ``name`` that is one of the product modules."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _imports(module: str, path: Path) -> list[tuple[str, str | None, int]]:
    """Every (imported module, imported name or None, line) in one module, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name)
                if target:
                    found.append((target, None, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path, node)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:
                    found.append((submodule, None, node.lineno))
                    continue
                target = _known(base)
                if target:
                    found.append((target, alias.name, node.lineno))
        elif isinstance(node, ast.Call) and _is_import_module(node):
            found.extend((target, None, node.lineno) for target in _dynamic_targets(node.args[0]))
    return found


def _is_import_module(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "import_module" and bool(node.args)


def _dynamic_targets(arg: ast.expr) -> list[str]:
    """`import_module("a.b")` names a.b; `import_module(f"a.{x}")` may name any module under a."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        target = _known(arg.value)
        return [target] if target else []
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix = str(arg.values[0].value)
        return [m for m in MODULES if m.startswith(prefix) and m != prefix.rstrip(".")]
    return []


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _function_level_lines(path: Path) -> set[int]:
    """The lines of the imports that run only when a function is called (inside a def)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {
        inner.lineno
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for inner in ast.walk(node)
        if isinstance(inner, (ast.Import, ast.ImportFrom, ast.Call))
    }


def _private_attributes(module: str, path: str | Path) -> list[str]:
    """`other_module._name` uses in one module: the same reach into another module's privates."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({a.asname or a.name: a.name for a in node.names if a.name in MODULES})
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, Path(path), node)
            aliases.update(
                {a.asname or a.name: f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES}
            )
    return [
        f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and aliases.get(node.value.id, module) != module
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]


def _cycles() -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a cycle."""
    edges = {m: sorted({t for t, _, _ in imports if t != m}) for m, imports in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return [_one_cycle(sorted(c), edges) for c in components]


def _one_cycle(component: list[str], edges: dict[str, list[str]]) -> list[str]:
    """A concrete path start -> ... -> start inside one component, to name in the failure."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in edges[node]:
            if target == start:
                return paths[node] + [start]
            if target in members and target not in paths:
                paths[target] = paths[node] + [target]
                queue.append(target)
    return component


def _is_package_init(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def test_no_import_cycles() -> None:
    cycles = _cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_core_imports_only_core() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        if _in(module, "ingest_app.core")
        for target, _, line in imports
        if (_in(target, "ingest_app") and not _in(target, "ingest_app.core") and target != "ingest_app")
        or _in(target, "devtools")
    ]
    assert not wrong, "core reaches outside core:\n" + "\n".join(wrong)


def test_the_worker_imports_only_core() -> None:
    """`lambda_worker` runs from the Lambda zip, which holds `ingest_app.core` and nothing else."""
    wrong = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        if _in(module, "lambda_worker")
        for target, _, line in imports
        if not (_in(target, "lambda_worker") or _in(target, "ingest_app.core") or target == "ingest_app")
    ]
    assert not wrong, "the worker reaches outside core:\n" + "\n".join(wrong)


def test_the_product_never_imports_devtools() -> None:
    """Local tooling stays out of the Lambda zip and the web process: a dev-only command imports it
    inside its handler, when it runs; no module imports it when it is loaded."""
    wrong = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        if any(_in(module, package) for package in PRODUCT)
        for target, _, line in imports
        if _in(target, "devtools")
        and not (_in(module, "ingest_app.commands") and line in _function_level_lines(MODULES[module]))
    ]
    assert not wrong, "product modules import devtools:\n" + "\n".join(wrong)


def test_devtools_imports_are_seen() -> None:
    """The rule above has something to check: the dev commands do import devtools, lazily."""
    lazy = {
        module
        for module, imports in GRAPH.items()
        if _in(module, "ingest_app.commands")
        for target, _, line in imports
        if _in(target, "devtools") and line in _function_level_lines(MODULES[module])
    }
    assert {"ingest_app.commands.dev", "ingest_app.commands.worker", "ingest_app.commands.demo"} <= lazy


def test_no_private_names_across_modules() -> None:
    wrong = [
        f"{module}:{line} imports {name} from {target}"
        for module, imports in GRAPH.items()
        for target, name, line in imports
        if name and name.startswith("_") and not name.startswith("__") and target != module
    ]
    wrong += [use for module, path in MODULES.items() for use in _private_attributes(module, path)]
    assert not wrong, "private names imported across modules:\n" + "\n".join(wrong)
