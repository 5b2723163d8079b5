"""The package's modules import one way, along the data: text -> units -> embeddings -> similarities -> scores ->
occupations / postings -> jobs -> CLI. Each module imports only modules of a lower layer or of its own package
entry (a subpackage's modules import each other), and there is no import circle; imports inside functions and
under ``TYPE_CHECKING`` count too."""

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "exposure"
#: Modules that are not Python files: the compiled kernels.
COMPILED = {"exposure._core"}

#: The layer of each module, lowest first. A key is a module or a package and covers everything under it
#: (``exposure.kernels`` is kernels.py, or a kernels/ package and its modules); a module takes the layer of
#: its longest key. ``exposure`` alone is the package's ``__init__.py`` (the public API), not its modules.
LAYERS = {
    # 0. Helpers that import nothing of exposure: shipped files, the cache folder and file modes, lazy exports,
    #    worker processes, the compiled kernels.
    "exposure._assets": 0,
    "exposure._exports": 0,
    "exposure._processes": 0,
    "exposure._core": 0,
    # 0.5. Table I/O (files follow the umask, as _assets writes them), statistics (numpy only), the language
    #      check, the rubric.
    "exposure.io": 0.5,
    "exposure.stats": 0.5,
    "exposure.language": 0.5,
    "exposure.rubric": 0.5,
    # 1. The BERT encoder's model and tokenizer.
    "exposure._bert": 1,
    # 2. Texts -> embeddings (the default encoder; the multilingual one, mapped into its space); embeddings ->
    #    similarities (none imports another).
    "exposure.encoder": 2,
    "exposure.kernels": 2,
    "exposure.multilingual": 2,
    # 3. What a score is made of: capability sets, calibrated heads, technology labels.
    "exposure.capabilities": 3,
    "exposure.heads": 3,
    "exposure.technologies": 3,
    # 4. Similarities -> task scores.
    "exposure.scoring": 4,
    # 5. Task scores -> occupations; texts -> occupations.
    "exposure.occupations": 5,
    # 6. What builds on occupations: posting scores, labour-market tables (neither imports the other).
    "exposure.postings": 6,
    "exposure.labour": 6,
    # 7. Streaming batch jobs over posting files.
    "exposure.jobs": 7,
    # 8. The public API; fitting and reports, and rebuilding the shipped data: no runtime module imports them.
    "exposure": 8,
    "exposure.training": 8,
    "exposure.data": 8,
    # 9. The command line, and ``python -m exposure``, which runs it.
    "exposure.cli": 9,
    "exposure.__main__": 10,
}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _public_api() -> dict:
    """``{name: module}`` of the names ``import exposure`` serves lazily."""
    import exposure

    return {name: f"exposure.{module}" for name, module in exposure._EXPORTS.items()}


@functools.lru_cache(maxsize=None)
def _statements() -> tuple:
    """``(module, import statement, the module it imports from or None for a plain import)`` over the package,
    imports in functions and under ``TYPE_CHECKING`` included (read once per test session)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - max(node.level - 1, 0)] if node.level else []
                found.append((name, node, ".".join(base + ([node.module] if node.module else []))))
            elif isinstance(node, ast.Import):
                found.append((name, node, None))
    return tuple(found)


def _known() -> set:
    return {_module(p) for p in PACKAGE.rglob("*.py")} | COMPILED


def _imports() -> dict:
    """``{module: {imported module: first line}}`` over the package.

    ``from exposure import NAME`` imports the module NAME, or the module the public API takes NAME from;
    ``__version__`` is the package's own constant (``__init__.py`` imports nothing else at run time). A module's
    own package and its ancestors are left out (importing a submodule runs them anyway)."""
    known, api = _known(), _public_api()
    imports = {_module(p): {} for p in PACKAGE.rglob("*.py")}
    for name, node, source in _statements():
        if source is None:
            targets = [a.name for a in node.names]
        elif source == "exposure":
            targets = [f"exposure.{a.name}" if f"exposure.{a.name}" in known else api.get(a.name, "exposure")
                       for a in node.names if a.name != "__version__"]
        else:
            targets = [source] + [f"{source}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                imports[name].setdefault(target, node.lineno)
    return imports


def _private_names() -> list:
    """``"module imports NAME from other, line n"`` for each private name (``_x``, not a module) that a module
    imports from a module under another key of :data:`LAYERS`: what two packages share is public, in the lowest
    module both need."""
    known = _known()
    found = []
    for name, node, source in _statements():
        if source is None or not source.startswith("exposure"):
            continue
        for alias in node.names:
            private = alias.name.startswith("_") and not alias.name.startswith("__")
            if private and f"{source}.{alias.name}" not in known \
                    and _layer_key(source, LAYERS) != _layer_key(name, LAYERS):
                found.append(f"{name} imports {alias.name} from {source}, line {node.lineno}")
    return found


def _edges() -> dict:
    return {m: set(targets) for m, targets in _imports().items()}


def _cycle(edges: dict):
    state = {}

    def visit(m, path):
        state[m] = "open"
        for n in sorted(edges.get(m, ())):
            if state.get(n) == "open":
                return path[path.index(n):] + [n]
            if n not in state:
                found = visit(n, path + [n])
                if found:
                    return found
        state[m] = "done"
        return None

    for m in sorted(edges):
        if m not in state:
            found = visit(m, [m])
            if found:
                return found
    return None


def _layer_key(module: str, layers: dict):
    """The longest key of ``layers`` that is ``module`` or a package above it (the root only for itself)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in layers and (n > 1 or key == module):
            return key
    return None


def _violations(imports: dict, layers: dict) -> list:
    """``"module (layer a) imports target (layer b), line n"`` for each import of a module that is neither of a
    lower layer nor under the same key of ``layers``."""
    found = []
    for module, targets in sorted(imports.items()):
        key = _layer_key(module, layers)
        for target, line in sorted(targets.items()):
            other = _layer_key(target, layers)
            if key is None or other is None:
                continue  # test_every_module_has_a_layer names it
            if other != key and layers[other] >= layers[key]:
                found.append(f"{module} (layer {layers[key]}) imports {target} (layer {layers[other]}), line {line}")
    return found


def test_no_import_circle():
    cycle = _cycle(_edges())
    assert cycle is None, " -> ".join(cycle)


def test_the_check_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_has_a_layer_and_every_layer_a_module():
    modules = set(_imports()) | COMPILED
    assert [m for m in sorted(modules) if _layer_key(m, LAYERS) is None] == []
    stale = [k for k in LAYERS if not any(m == k or m.startswith(k + ".") for m in modules)]
    assert stale == [], f"LAYERS names modules that do not exist: {stale}"


def test_each_module_imports_only_lower_layers():
    assert _violations(_imports(), LAYERS) == []


def test_no_private_name_crosses_packages():
    assert _private_names() == []


def test_training_is_imported_by_the_command_line_only():
    importers = {m for m, targets in _imports().items() if not m.startswith("exposure.training")
                 and any(t == "exposure.training" or t.startswith("exposure.training.") for t in targets)}
    assert importers <= {"exposure.cli"}, importers


@pytest.mark.parametrize("module, target, allowed", [
    ("exposure.stats", "exposure.scoring", False),  # a helper reaching up
    ("exposure.encoder", "exposure.kernels", False),  # siblings of one layer
    ("exposure.occupations.tables", "exposure.postings.scorer", False),
    ("exposure.kernels._native", "exposure.encoder", False),  # a kernels package takes the kernels' layer
    ("exposure.postings.scorer", "exposure.occupations.tables", True),
    ("exposure.postings.scorer", "exposure.postings.frontend", True),  # one package
    ("exposure.kernels._native", "exposure.kernels._torch", True),
    ("exposure.kernels", "exposure._core", True),
    ("exposure.cli", "exposure.training.eloundou", True),
])
def test_the_check_finds_an_import_upwards(module, target, allowed):
    assert (_violations({module: {target: 1}}, LAYERS) == []) == allowed
