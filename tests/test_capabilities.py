"""Capability sets: the shipped default, loading user files, validation messages, checksums."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections import Counter

import numpy as np
import pytest
import yaml

from exposure.capabilities import (
    Capability,
    CapabilitySet,
    CapabilitySetError,
    CounterStatement,
    available_sets,
)

REQUIRED_TECHNOLOGIES = ("llm", "software", "vision", "robotics", "vehicles")

TINY = {
    "name": "tiny",
    "version": "0.1.0",
    "description": "A two-technology example.",
    "technologies": {"llm": "Language models.", "vision": "Machine vision."},
    "capabilities": [
        {"id": "draft-emails", "technology": "llm", "statement": "Write emails to respond to inquiries."},
        {"id": "inspect-parts", "technology": "vision", "statement": "Inspect parts for defects using cameras."},
        {"id": "summarize", "technology": "llm", "statement": "Summarize reports for managers."},
    ],
    "counter_statements": [
        {"id": "cook-meals", "statement": "Cook meals to order in restaurant kitchens.", "theme": "food service"},
        {"id": "clean-rooms", "statement": "Clean rooms and floors in buildings."},
    ],
}


@pytest.fixture(scope="module")
def default():
    return CapabilitySet.load()


def tiny(**changes):
    data = copy.deepcopy(TINY)
    data.update(changes)
    return data


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- default set
def test_default_set_loads_with_enough_entries(default):
    assert default.name == "default"
    assert default.source == "default"
    assert re.fullmatch(r"\d+\.\d+\.\d+", default.version)
    assert len(default) >= 80
    assert len(default.counters) >= 25
    assert "default" in available_sets()
    assert CapabilitySet.load("default") == default


def test_default_set_uses_every_declared_technology(default):
    assert default.technologies[: len(REQUIRED_TECHNOLOGIES)] == REQUIRED_TECHNOLOGIES
    counts = Counter(c.technology for c in default.capabilities)
    assert set(counts) == set(default.technologies)
    # Weighted toward language models and software, the technologies the main validation is about.
    assert counts["llm"] + counts["software"] > len(default) / 2
    for tech in default.technologies:
        assert default.technology_descriptions[tech].strip()


def test_default_set_ids_and_statements_are_unique(default):
    ids = [c.id for c in default.capabilities] + [c.id for c in default.counters]
    assert len(ids) == len(set(ids))
    texts = [s.lower() for s in default.statements + default.counter_statements]
    assert len(texts) == len(set(texts))


def test_default_statements_read_like_onet_tasks(default):
    # One sentence, capitalised, ending in a full stop, short enough to embed without truncation.
    for text in default.statements + default.counter_statements:
        assert text[0].isupper() and text.endswith("."), text
        assert text.count(". ") == 0, text
        assert 4 <= len(text.split()) <= 30, text


@pytest.mark.parametrize(
    "cap_id",
    [
        "write-correspondence",
        "prepare-written-reports",
        "summarize-documents",
        "translate-documents",
        "answer-customer-questions",
        "write-computer-programs",
        "draft-legal-documents",
        "review-documents-compliance",
        "analyze-data-trends",
        "schedule-appointments",
        "record-financial-transactions",
        "process-insurance-claims",
        "detect-fraud",
        "inspect-parts-cameras",
        "read-medical-images",
        "weld-seams-production",
        "pick-order-items",
        "transport-factory-materials",
        "drive-long-haul-trucks",
    ],
)
def test_default_set_covers_required_capabilities(default, cap_id):
    assert cap_id in default.ids


@pytest.mark.parametrize(
    "keyword",
    ["patient", "repair", "heavy equipment", "construction", "clean", "cook", "animals", "children",
     "live audiences", "athletic", "counsel", "negotiate", "fires", "by hand", "install", "harvest"],
)
def test_default_counter_statements_cover_human_bound_work(default, keyword):
    assert any(keyword in s.lower() for s in default.counter_statements), keyword


def test_default_set_round_trips_through_to_dict(default):
    again = CapabilitySet.from_dict(default.to_dict(), source="copy")
    assert again == default
    assert again.checksum == default.checksum
    assert again.source == "copy"


# ---------------------------------------------------------------- structure
def test_derived_views():
    caps = CapabilitySet.from_dict(TINY)
    assert caps.technologies == ("llm", "vision")
    assert caps.statements == [c["statement"] for c in TINY["capabilities"]]
    assert caps.counter_statements == [c["statement"] for c in TINY["counter_statements"]]
    assert caps.counters[1].theme is None and caps.counters[0].theme == "food service"
    assert caps.technology_index.dtype == np.int32
    assert caps.technology_index.tolist() == [0, 1, 0]
    assert not caps.technology_index.flags.writeable
    assert [c.id for c in caps.by_technology("llm")] == ["draft-emails", "summarize"]
    with pytest.raises(ValueError, match="unknown technology 'cars'"):
        caps.by_technology("cars")
    assert len(caps) == 3
    assert re.fullmatch(r"[0-9a-f]{64}", caps.checksum)
    assert hash(caps) == hash(CapabilitySet.from_dict(TINY))


def test_entries_are_frozen():
    caps = CapabilitySet.from_dict(TINY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.name = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.capabilities[0].statement = "other"


def test_counter_statements_may_be_absent_or_empty():
    no_counters = {k: v for k, v in TINY.items() if k != "counter_statements"}
    assert CapabilitySet.from_dict(no_counters).counter_statements == []
    assert CapabilitySet.from_dict(tiny(counter_statements=[])).counters == ()
    assert CapabilitySet.from_dict(tiny(counter_statements=None)).counters == ()


def test_direct_construction_is_checked():
    with pytest.raises(CapabilitySetError, match=r"capabilities\[0\] \(id 'a'\): field 'technology' is 'cars'"):
        CapabilitySet("x", "1.0.0", "d", ("llm",), {"llm": "L"}, (Capability("a", "cars", "Do it."),))
    with pytest.raises(CapabilitySetError, match="duplicate id 'a'"):
        CapabilitySet(
            "x", "1.0.0", "d", ("llm",), {"llm": "L"},
            (Capability("a", "llm", "Do it."),), (CounterStatement("a", "Do not."),),
        )


# ---------------------------------------------------------------- checksums
def test_checksum_changes_when_a_statement_changes():
    base = CapabilitySet.from_dict(TINY)
    changed = tiny()
    changed["capabilities"][0]["statement"] = "Write letters to respond to inquiries."
    assert CapabilitySet.from_dict(changed).checksum != base.checksum
    changed = tiny()
    changed["counter_statements"][1]["theme"] = "cleaning"
    assert CapabilitySet.from_dict(changed).checksum != base.checksum
    assert CapabilitySet.from_dict(tiny(version="0.2.0")).checksum != base.checksum


def test_checksum_ignores_formatting_and_source(tmp_path):
    base = CapabilitySet.from_dict(TINY)
    reflowed = tiny()
    reflowed["capabilities"][0]["statement"] = "  Write emails\n  to respond   to inquiries. "
    assert CapabilitySet.from_dict(reflowed).checksum == base.checksum
    as_json = tmp_path / "set.json"
    as_json.write_text(json.dumps(TINY, indent=4), encoding="utf-8")
    folded = tmp_path / "set.yaml"
    folded.write_text(
        "# a comment\n" + yaml.safe_dump(TINY, default_flow_style=True, sort_keys=True, width=30), encoding="utf-8"
    )
    assert CapabilitySet.load(as_json).checksum == CapabilitySet.load(str(folded)).checksum == base.checksum


# ---------------------------------------------------------------- user files
@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_load_user_file(tmp_path, suffix):
    path = tmp_path / f"mine{suffix}"
    path.write_text(json.dumps(TINY) if suffix == ".json" else yaml.safe_dump(TINY), encoding="utf-8")
    caps = CapabilitySet.load(path)
    assert caps.source == str(path)
    assert caps == CapabilitySet.from_dict(TINY)
    assert CapabilitySet.load(str(path)) == caps


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_then_load(tmp_path, default, suffix):
    path = default.save(tmp_path / f"copy{suffix}")
    again = CapabilitySet.load(path)
    assert again == default and again.checksum == default.checksum


def test_save_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.yaml"):
        CapabilitySet.from_dict(TINY).save(tmp_path / "copy.txt")


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(CapabilitySetError, match="does not exist"):
        CapabilitySet.load(tmp_path / "nope.yaml")
    with pytest.raises(CapabilitySetError, match="no shipped capability set named 'nope'.*default"):
        CapabilitySet.load("nope")
    with pytest.raises(CapabilitySetError, match="is a directory"):
        CapabilitySet.load(tmp_path)
    other = tmp_path / "set.txt"
    other.write_text(yaml.safe_dump(TINY), encoding="utf-8")
    with pytest.raises(CapabilitySetError, match=r"must end in \.yaml, \.yml, \.json"):
        CapabilitySet.load(other)


def test_unparsable_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "name: broken\nversion: '1.0.0'\ncapabilities:\n  - id: a\n    statement: [unclosed\n", encoding="utf-8"
    )
    with pytest.raises(CapabilitySetError, match=r"broken\.yaml: invalid YAML at line \d+, column \d+"):
        CapabilitySet.load(path)


def test_unparsable_json_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  "version": \n}\n', encoding="utf-8")
    with pytest.raises(CapabilitySetError, match=r"invalid JSON at line 4"):
        CapabilitySet.load(path)


def test_repeated_yaml_key_is_an_error(tmp_path):
    text = yaml.safe_dump(TINY, sort_keys=False).replace(
        "  statement: Write emails", "  statement: Old text.\n  statement: Write emails", 1
    )
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CapabilitySetError, match=r"invalid YAML at line \d+.*duplicate key 'statement'"):
        CapabilitySet.load(path)


@pytest.mark.parametrize("text, match", [
    ("", "is empty"),
    ("- a\n- b\n", "top level must be a mapping.*got list"),
    ("just text\n", "top level must be a mapping.*got str"),
])
def test_wrong_top_level_type(tmp_path, text, match):
    path = tmp_path / "top.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CapabilitySetError, match=match):
        CapabilitySet.load(path)


# ---------------------------------------------------------------- validation
def _cap(i, **fields):
    data = tiny()
    entry = data["capabilities"][i]
    for key, value in fields.items():
        if value is _DROP:
            del entry[key]
        else:
            entry[key] = value
    return data


def _counter(i, **fields):
    data = tiny()
    entry = data["counter_statements"][i]
    for key, value in fields.items():
        if value is _DROP:
            del entry[key]
        else:
            entry[key] = value
    return data


_DROP = object()

MALFORMED = {
    "unknown technology": (
        _cap(1, technology="llms"),
        r"capabilities\[1\] \(id 'inspect-parts'\): field 'technology' is 'llms', expected one of: llm, vision",
    ),
    "typo in key": (
        _cap(2, statment="Summarize.", statement=_DROP),
        r"capabilities\[2\] \(id 'summarize'\): unknown key 'statment'; allowed keys: id, technology, statement",
    ),
    "missing statement": (
        _cap(0, statement=_DROP),
        r"capabilities\[0\] \(id 'draft-emails'\): missing field 'statement'",
    ),
    "empty statement": (_cap(0, statement="   "), r"capabilities\[0\] \(id 'draft-emails'\): field 'statement' is empty"),
    "non-string statement": (
        _cap(0, statement=42),
        r"capabilities\[0\] \(id 'draft-emails'\): field 'statement' must be a string, got int 42",
    ),
    "missing id": (_cap(1, id=_DROP), r"capabilities\[1\]: missing field 'id'"),
    "bad id": (_cap(1, id="Inspect Parts"), r"capabilities\[1\].*field 'id' is 'Inspect Parts', expected a slug"),
    "duplicate capability id": (
        _cap(2, id="draft-emails"),
        r"capabilities\[2\] \(id 'draft-emails'\): duplicate id 'draft-emails' \(first used by capabilities\[0\]\)",
    ),
    "counter id clashes with capability": (
        _counter(1, id="summarize"),
        r"counter_statements\[1\] \(id 'summarize'\): duplicate id 'summarize' \(first used by capabilities\[2\]\)",
    ),
    "counter typo": (
        _counter(0, themes="food"),
        r"counter_statements\[0\] \(id 'cook-meals'\): unknown key 'themes'; allowed keys: id, statement, theme",
    ),
    "counter missing statement": (
        _counter(1, statement=_DROP),
        r"counter_statements\[1\] \(id 'clean-rooms'\): missing field 'statement'",
    ),
    "counter empty theme": (_counter(0, theme=""), r"counter_statements\[0\] \(id 'cook-meals'\): field 'theme' is empty"),
    "capability not a mapping": (
        tiny(capabilities=["Write emails."]),
        r"capabilities\[0\] must be a mapping with keys id, technology, statement, got str",
    ),
    "counter not a mapping": (
        tiny(counter_statements=["Cook meals."]),
        r"counter_statements\[0\] must be a mapping",
    ),
    "counters not a list": (
        tiny(counter_statements={"id": "x", "statement": "Y."}),
        r"field 'counter_statements' must be a list, got dict",
    ),
    "no capabilities": (tiny(capabilities=[]), r"field 'capabilities' is missing or empty"),
    "capabilities not a list": (tiny(capabilities="none"), r"field 'capabilities' must be a list, got str"),
    "no technologies": (tiny(technologies={}), r"field 'technologies' must be a non-empty mapping"),
    "technologies as list": (tiny(technologies=["llm", "vision"]), r"field 'technologies' must be a non-empty mapping"),
    "empty technology description": (
        tiny(technologies={"llm": "", "vision": "Machine vision."}),
        r"technologies: field 'llm' is empty",
    ),
    "unknown top-level key": (
        tiny(counter_statement=[]),
        r"top level: unknown key 'counter_statement'; allowed keys: name, version, description, technologies",
    ),
    "missing name": ({k: v for k, v in TINY.items() if k != "name"}, r"top level: missing field 'name'"),
    "float version": (tiny(version=1.0), r"field 'version' must be a string, got float 1\.0 \(quote it in YAML\)"),
    "non-semver version": (tiny(version="v1"), r"field 'version' is 'v1', expected a semver string"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_set_names_entry_and_field(tmp_path, case):
    data, match = MALFORMED[case]
    with pytest.raises(CapabilitySetError, match=match):
        CapabilitySet.from_dict(data)
    # The same message, prefixed by the file, when the content comes from a file.
    path = write_yaml(tmp_path / "bad.yaml", data)
    with pytest.raises(CapabilitySetError, match=re.escape(str(path)) + ".*" + match):
        CapabilitySet.load(path)


def test_errors_are_value_errors():
    assert issubclass(CapabilitySetError, ValueError)
    with pytest.raises(TypeError, match="shipped set name or a path"):
        CapabilitySet.load(42)
