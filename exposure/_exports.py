"""Public names of a package, imported from their modules on first use.

``import exposure`` (or a subpackage) stays cheap: tools that only aggregate
stored scores never load torch. A package declares ``{name: module}`` and gets
its ``__getattr__`` and ``__dir__``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable, List, Mapping, Tuple

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps a public name to the module (relative to
    ``package``) that defines it.

    >>> get, names = lazy_exports("exposure", {"rankdata": "stats"})
    >>> get("rankdata").__module__, names()
    ('exposure.stats', ['rankdata'])
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(f".{exports[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> List[str]:
        return names

    return __getattr__, __dir__
