"""Old import paths that keep working, with a ``DeprecationWarning``, until exposure 0.3.

A module whose names moved gets ``__getattr__ = moved(__name__, {name: new_module})``
(``"new_module:new_name"`` for a name that changed too): reading ``old.name`` warns
once per place and returns ``new_module.name``. The new
module is imported by name when the old path is used, so a deprecated alias adds no
import edge between the layers.

>>> import warnings
>>> get = moved("exposure.old", {"rankdata": "exposure.stats"})
>>> with warnings.catch_warnings(record=True) as w:
...     warnings.simplefilter("always")
...     get("rankdata").__module__, str(w[0].message).split(";")[0]
('exposure.stats', 'exposure.old.rankdata moved to exposure.stats.rankdata')
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import Any, Callable, Mapping

__all__ = ["moved", "REMOVED_IN"]

#: The release in which the old paths go.
REMOVED_IN = "0.3"


def moved(old_module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` serving ``names`` (old name -> ``"module"`` that now holds it, or
    ``"module:new_name"``)."""

    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        module, _, new_name = target.partition(":")
        new_name = new_name or name
        warnings.warn(f"{old_module}.{name} moved to {module}.{new_name}; import it from there "
                      f"(the old path will be removed in exposure {REMOVED_IN})", DeprecationWarning, stacklevel=2)
        return getattr(import_module(module), new_name)

    return __getattr__
