"""Capability sets: versioned, human-editable lists of what technologies can do.

A capability set is a YAML (or JSON) file with a ``name``, a semver ``version``,
a ``description``, the ``technologies`` it covers (id -> one-line description),
a list of ``capabilities`` (``id``, ``technology``, ``statement``) and an optional
list of ``counter_statements`` (``id``, ``statement``, optional ``theme``): work
that stays with people. Statements are written the way O*NET writes tasks, so
that they can be matched to task statements by embedding similarity.

>>> from exposure.capabilities import CapabilitySet
>>> caps = CapabilitySet.load()                      # the shipped default set
>>> caps.technologies[:2]
('llm', 'software')
>>> len(caps.statements) == len(caps) == len(caps.technology_index)
True

Loading validates everything and reports problems by entry and field, so a
hand-edited file fails with a message that says where to look.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import yaml

from ._assets import shipped

__all__ = [
    "Capability",
    "CounterStatement",
    "CapabilitySet",
    "CapabilitySetError",
    "available_sets",
    "DEFAULT_SET",
]

DEFAULT_SET = "default"
_SUFFIXES = (".yaml", ".yml", ".json")
_TOP_KEYS = ("name", "version", "description", "technologies", "headline", "capabilities", "counter_statements")
_CAPABILITY_KEYS = ("id", "technology", "statement")
_COUNTER_KEYS = ("id", "statement", "theme")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_SEMVER_RE = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


class CapabilitySetError(ValueError):
    """A capability set file or mapping is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Capability:
    """One thing a technology can do, phrased as an O*NET-style task statement.

    >>> Capability("draft-emails", "llm", "Write emails to respond to inquiries.").technology
    'llm'
    """

    id: str
    technology: str
    statement: str


@dataclass(frozen=True)
class CounterStatement:
    """Work that stays with people; tasks close to it have their exposure reduced.

    >>> CounterStatement("cook-meals", "Cook meals to order in restaurant kitchens.", "food service").theme
    'food service'
    """

    id: str
    statement: str
    theme: Optional[str] = None


@dataclass(frozen=True)
class CapabilitySet:
    """A validated, versioned set of capabilities and counter-statements.

    Build one with :meth:`load` (a shipped name or a file) or :meth:`from_dict`;
    both validate. Capabilities keep their file order, and ``technology_index[i]``
    is the position of ``capabilities[i].technology`` in ``technologies``, so
    per-technology scores are a group-by over that array.

    >>> caps = CapabilitySet.from_dict({
    ...     "name": "tiny", "version": "0.1.0", "description": "Example.",
    ...     "technologies": {"llm": "Language models."},
    ...     "capabilities": [{"id": "draft", "technology": "llm",
    ...                       "statement": "Write letters or emails."}],
    ... })
    >>> caps.statements, caps.counter_statements, caps.technology_index.tolist()
    (['Write letters or emails.'], [], [0])
    """

    name: str
    version: str
    description: str
    technologies: Tuple[str, ...]
    technology_descriptions: Dict[str, str]
    capabilities: Tuple[Capability, ...]
    counters: Tuple[CounterStatement, ...] = ()
    headline: Tuple[str, ...] = ()
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self):
        # Direct construction gets the structural checks that from_dict gives files.
        object.__setattr__(self, "technologies", tuple(self.technologies))
        object.__setattr__(self, "capabilities", tuple(self.capabilities))
        object.__setattr__(self, "counters", tuple(self.counters))
        object.__setattr__(self, "headline", tuple(self.headline))
        unknown = [t for t in self.headline if t not in self.technologies]
        if unknown:
            raise CapabilitySetError(
                f"{self.source}: top level: field 'headline' names {', '.join(map(repr, unknown))}, "
                f"expected technologies among: {', '.join(self.technologies)}"
            )
        object.__setattr__(self, "technology_descriptions", dict(self.technology_descriptions))
        if not self.capabilities:
            raise CapabilitySetError(f"{self.source}: a capability set needs at least one capability")
        if set(self.technology_descriptions) != set(self.technologies):
            raise CapabilitySetError(
                f"{self.source}: technology_descriptions has keys {sorted(self.technology_descriptions)}, "
                f"expected exactly the technologies {list(self.technologies)}"
            )
        seen: Dict[str, str] = {}
        for where, entry in self._entries():
            if entry.id in seen:
                raise CapabilitySetError(
                    f"{self.source}: {where} (id {entry.id!r}): duplicate id {entry.id!r} (first used by {seen[entry.id]})"
                )
            seen[entry.id] = where
            if isinstance(entry, Capability) and entry.technology not in self.technologies:
                raise CapabilitySetError(
                    f"{self.source}: {where} (id {entry.id!r}): field 'technology' is {entry.technology!r}, "
                    f"expected one of: {', '.join(self.technologies)}"
                )

    def _entries(self):
        for i, cap in enumerate(self.capabilities):
            yield f"capabilities[{i}]", cap
        for i, counter in enumerate(self.counters):
            yield f"counter_statements[{i}]", counter

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.capabilities)

    def __hash__(self) -> int:
        return hash(self.checksum)

    @property
    def statements(self) -> List[str]:
        """Capability statements, in file order (the rows of the capability embedding matrix)."""
        return [c.statement for c in self.capabilities]

    @property
    def headline_technologies(self) -> Tuple[str, ...]:
        """The technologies pooled into the headline score: ``headline`` if the set names any, else all."""
        return self.headline or self.technologies

    @property
    def counter_statements(self) -> List[str]:
        """Counter-statements, in file order; empty when the set has none."""
        return [c.statement for c in self.counters]

    @property
    def ids(self) -> List[str]:
        """Capability ids, in file order."""
        return [c.id for c in self.capabilities]

    @cached_property
    def technology_index(self) -> np.ndarray:
        """int32 array, one entry per capability: its technology's position in ``technologies``."""
        pos = {t: i for i, t in enumerate(self.technologies)}
        index = np.fromiter((pos[c.technology] for c in self.capabilities), dtype=np.int32, count=len(self.capabilities))
        index.setflags(write=False)
        return index

    @cached_property
    def checksum(self) -> str:
        """sha256 hex digest of the canonical content (independent of file format and layout)."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def by_technology(self, technology: str) -> Tuple[Capability, ...]:
        """The capabilities of one technology.

        >>> all(c.technology == "vision" for c in CapabilitySet.load().by_technology("vision"))
        True
        """
        if technology not in self.technologies:
            raise ValueError(f"unknown technology {technology!r}, expected one of: {', '.join(self.technologies)}")
        return tuple(c for c in self.capabilities if c.technology == technology)

    def __repr__(self) -> str:
        return (
            f"CapabilitySet(name={self.name!r}, version={self.version!r}, capabilities={len(self.capabilities)}, "
            f"counters={len(self.counters)}, technologies={self.technologies!r}, source={self.source!r})"
        )

    # ------------------------------------------------------ (de)serialisation
    def to_dict(self) -> Dict[str, Any]:
        """Plain data in the file layout; ``CapabilitySet.from_dict(s.to_dict())`` equals ``s``."""
        counters = []
        for c in self.counters:
            entry = {"id": c.id, "statement": c.statement}
            if c.theme is not None:
                entry["theme"] = c.theme
            counters.append(entry)
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "technologies": {t: self.technology_descriptions[t] for t in self.technologies},
            **({"headline": list(self.headline)} if self.headline else {}),
            "capabilities": [{"id": c.id, "technology": c.technology, "statement": c.statement} for c in self.capabilities],
            "counter_statements": counters,
        }

    def save(self, path: Union[str, os.PathLike]) -> Path:
        """Write the set as YAML (``.yaml``/``.yml``) or JSON (``.json``), e.g. to start an edited copy."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in _SUFFIXES:
            raise ValueError(f"cannot save to {str(path)!r}: use a {', '.join(_SUFFIXES)} file name")
        data = self.to_dict()
        with open(path, "w", encoding="utf-8") as f:
            if suffix == ".json":
                json.dump(data, f, indent=2, ensure_ascii=False)
                f.write("\n")
            else:
                yaml.safe_dump(data, f, sort_keys=False, allow_unicode=True, width=120)
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<memory>") -> "CapabilitySet":
        """Validate parsed content (the layout of a capability set file) and build the set.

        Raises :class:`CapabilitySetError` naming the entry and field at fault.
        """
        return _parse(data, source)

    @classmethod
    def load(cls, source: Union[str, os.PathLike] = DEFAULT_SET) -> "CapabilitySet":
        """Load a shipped set by name (``"default"``) or a ``.yaml``/``.yml``/``.json`` file.

        >>> CapabilitySet.load("default").source
        'default'
        """
        if isinstance(source, str) and _is_bare_name(source):
            shipped = _shipped_sets()
            if source in shipped:
                return _parse(_read_text(shipped[source], source, shipped[source].name), source)
            if not os.path.exists(source):
                raise CapabilitySetError(
                    f"no shipped capability set named {source!r}; shipped sets: {', '.join(sorted(shipped)) or 'none'}. "
                    f"To load a file, pass its path ending in {', '.join(_SUFFIXES)}"
                )
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"source must be a shipped set name or a path, got {type(source).__name__}")
        path = Path(source)
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "does not exist"
            raise CapabilitySetError(f"capability set file {str(path)!r} {what}")
        if path.suffix.lower() not in _SUFFIXES:
            raise CapabilitySetError(f"capability set file {str(path)!r} must end in {', '.join(_SUFFIXES)}")
        return _parse(_read_text(path, str(path), path.name), str(path))


def available_sets() -> List[str]:
    """Names of the capability sets shipped with the package.

    >>> "default" in available_sets()
    True
    """
    return sorted(_shipped_sets())


# ---------------------------------------------------------------- file access
def _is_bare_name(source: str) -> bool:
    return bool(source) and os.sep not in source and "/" not in source and not source.lower().endswith(_SUFFIXES)


def _shipped_sets() -> Dict[str, Any]:
    root = shipped("capabilities")
    if not root.is_dir():
        return {}
    found = {}
    for entry in root.iterdir():
        stem, dot, suffix = entry.name.rpartition(".")
        if dot and f".{suffix.lower()}" in _SUFFIXES and entry.is_file():
            found.setdefault(stem, entry)
    return found


def _read_text(resource, label: str, filename: str) -> Any:
    """Read and parse a YAML or JSON resource; parse errors carry line numbers."""
    try:
        text = resource.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CapabilitySetError(f"cannot read capability set {label!r}: {exc}") from exc
    if filename.lower().endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CapabilitySetError(f"{label}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{problem} ({context})" if context else problem
        raise CapabilitySetError(f"{label}: invalid YAML{where}: {detail}") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses repeated keys instead of keeping the last one silently."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# ------------------------------------------------------------------ validation
def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if value is not None else "empty (null)"


def _clean_text(value: str) -> str:
    # Collapse runs of whitespace so re-wrapping a YAML line keeps the checksum.
    return " ".join(value.split())


def _check_keys(obj: Mapping, allowed: Tuple[str, ...], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise CapabilitySetError(f"{where}: unknown key {key!r}; allowed keys: {', '.join(allowed)}")


def _string(obj: Mapping, key: str, where: str, required: bool = True) -> Optional[str]:
    if key not in obj:
        if required:
            raise CapabilitySetError(f"{where}: missing field {key!r}")
        return None
    value = obj[key]
    if value is None and not required:
        return None
    if not isinstance(value, str):
        hint = " (quote it in YAML)" if isinstance(value, (int, float, bool)) else ""
        raise CapabilitySetError(f"{where}: field {key!r} must be a string, got {_describe(value)}{hint}")
    value = _clean_text(value)
    if not value:
        raise CapabilitySetError(f"{where}: field {key!r} is empty")
    return value


def _slug(obj: Mapping, key: str, where: str) -> str:
    value = _string(obj, key, where)
    if not _ID_RE.match(value):
        raise CapabilitySetError(
            f"{where}: field {key!r} is {value!r}, expected a slug of lowercase letters, digits, '-' or '_' "
            f"(e.g. 'draft-emails')"
        )
    return value


def _entry_label(kind: str, i: int, entry: Mapping) -> str:
    ident = entry.get("id")
    return f"{kind}[{i}] (id {ident!r})" if isinstance(ident, str) and ident.strip() else f"{kind}[{i}]"


def _parse(data: Any, source: str) -> CapabilitySet:
    if data is None:
        raise CapabilitySetError(f"{source}: the capability set is empty; expected keys {', '.join(_TOP_KEYS)}")
    if not isinstance(data, Mapping):
        raise CapabilitySetError(
            f"{source}: top level must be a mapping with keys {', '.join(_TOP_KEYS)}, got {type(data).__name__}"
        )
    _check_keys(data, _TOP_KEYS, f"{source}: top level")
    top = f"{source}: top level"
    name = _string(data, "name", top)
    version = _string(data, "version", top)
    if not _SEMVER_RE.match(version):
        raise CapabilitySetError(f"{top}: field 'version' is {version!r}, expected a semver string like '1.0.0'")
    description = _string(data, "description", top)

    techs = data.get("technologies")
    if not isinstance(techs, Mapping) or not techs:
        raise CapabilitySetError(
            f"{top}: field 'technologies' must be a non-empty mapping of technology id to description, "
            f"got {_describe(techs)}"
        )
    tech_desc: Dict[str, str] = {}
    for key in techs:
        where = f"technologies[{key!r}]"
        if not isinstance(key, str) or not _ID_RE.match(key):
            raise CapabilitySetError(
                f"{source}: {where}: technology id must be a slug of lowercase letters, digits, '-' or '_'"
            )
        tech_desc[key] = _string(techs, key, f"{source}: technologies", required=True)
    technologies = tuple(tech_desc)
    headline = data.get("headline") or []
    if not isinstance(headline, list) or not all(isinstance(t, str) for t in headline):
        raise CapabilitySetError(f"{top}: field 'headline' must be a list of technology ids, got {_describe(headline)}")

    raw_caps = data.get("capabilities")
    if raw_caps is None or (isinstance(raw_caps, list) and not raw_caps):
        raise CapabilitySetError(f"{top}: field 'capabilities' is missing or empty; a set needs at least one capability")
    if not isinstance(raw_caps, list):
        raise CapabilitySetError(f"{top}: field 'capabilities' must be a list, got {type(raw_caps).__name__}")
    raw_counters = data.get("counter_statements")
    if raw_counters is None:
        raw_counters = []
    if not isinstance(raw_counters, list):
        raise CapabilitySetError(f"{top}: field 'counter_statements' must be a list, got {type(raw_counters).__name__}")

    seen: Dict[str, str] = {}

    def claim(ident: str, where: str, short: str) -> None:
        if ident in seen:
            raise CapabilitySetError(f"{where}: duplicate id {ident!r} (first used by {seen[ident]})")
        seen[ident] = short

    capabilities = []
    for i, entry in enumerate(raw_caps):
        if not isinstance(entry, Mapping):
            raise CapabilitySetError(
                f"{source}: capabilities[{i}] must be a mapping with keys {', '.join(_CAPABILITY_KEYS)}, "
                f"got {_describe(entry)}"
            )
        where = f"{source}: {_entry_label('capabilities', i, entry)}"
        _check_keys(entry, _CAPABILITY_KEYS, where)
        ident = _slug(entry, "id", where)
        tech = _string(entry, "technology", where)
        if tech not in tech_desc:
            raise CapabilitySetError(
                f"{where}: field 'technology' is {tech!r}, expected one of: {', '.join(technologies)}"
            )
        statement = _string(entry, "statement", where)
        claim(ident, where, f"capabilities[{i}]")
        capabilities.append(Capability(ident, tech, statement))

    counters = []
    for i, entry in enumerate(raw_counters):
        if not isinstance(entry, Mapping):
            raise CapabilitySetError(
                f"{source}: counter_statements[{i}] must be a mapping with keys {', '.join(_COUNTER_KEYS)}, "
                f"got {_describe(entry)}"
            )
        where = f"{source}: {_entry_label('counter_statements', i, entry)}"
        _check_keys(entry, _COUNTER_KEYS, where)
        ident = _slug(entry, "id", where)
        statement = _string(entry, "statement", where)
        theme = _string(entry, "theme", where, required=False)
        claim(ident, where, f"counter_statements[{i}]")
        counters.append(CounterStatement(ident, statement, theme))

    return CapabilitySet(
        name=name,
        version=version,
        description=description,
        technologies=technologies,
        technology_descriptions=tech_desc,
        capabilities=tuple(capabilities),
        counters=tuple(counters),
        headline=tuple(headline),
        source=source,
    )
