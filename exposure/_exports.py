"""Public names of a package, imported from their modules on first use.

``import exposure`` (or a subpackage) stays cheap: tools that only aggregate
stored scores never load torch. A package declares ``{name: module}`` and gets
its ``__getattr__`` and ``__dir__``; names that moved away are served by
:func:`exposure._deprecated.moved`, with a warning.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable, List, Mapping, Optional, Tuple

from ._deprecated import moved

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str], deprecated: Optional[Mapping[str, str]] = None
                 ) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps a public name to the module (relative to
    ``package``) that defines it; ``deprecated`` maps an old name to the module (absolute) that now holds it."""
    old = moved(package, deprecated or {})
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(f".{exports[name]}", package), name)
        return old(name)

    def __dir__() -> List[str]:
        return names

    return __getattr__, __dir__
