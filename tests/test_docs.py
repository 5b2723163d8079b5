"""The documentation site: it builds without a warning, and its CLI page keeps up with the parser."""

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exposure.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _subcommands() -> dict:
    """``{name: sub-parser}`` of the ``exposure`` command."""
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _cli_sections(text: str) -> dict:
    """``{command: its section}`` of docs/cli.md, one section per ``## `exposure NAME` `` heading."""
    parts = re.split(r"(?m)^## `exposure ([a-z0-9-]+)`[^\n]*\n", text)
    return dict(zip(parts[1::2], parts[2::2]))


def missing_from_cli_page(text: str, commands: dict) -> list:
    """What the CLI page lacks: each command without a section, each option (in any of its spellings,
    ``-q`` or ``--quiet``) absent from its command's section, and each section of a command the parser
    does not define."""
    sections = _cli_sections(text)
    missing = [f"exposure {name}: no section" for name in commands if name not in sections]
    for name, parser in commands.items():
        for action in parser._actions:
            options = [o for o in action.option_strings if o not in ("-h", "--help")]
            if options and name in sections and not any(
                    re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", sections[name]) for o in options):
                missing.append(f"exposure {name}: {max(options, key=len)}")
    missing += [f"exposure {name}: documented but not a command" for name in sections if name not in commands]
    return missing


def test_cli_page_lists_every_command_and_option():
    missing = missing_from_cli_page((DOCS / "cli.md").read_text(), _subcommands())
    assert not missing, "docs/cli.md is out of date with exposure/cli.py:\n" + "\n".join(missing)


def test_cli_page_check_finds_what_is_missing():
    commands = _subcommands()
    text = (DOCS / "cli.md").read_text()
    without_resume = text.replace("--resume", "--res-ume")
    assert "exposure score-postings: --resume" in missing_from_cli_page(without_resume, commands)
    without_section = re.sub(r"(?m)^## `exposure info`", "## info", text)
    assert "exposure info: no section" in missing_from_cli_page(without_section, commands)


def test_docstring_doctests_render_as_code():
    spec = importlib.util.spec_from_file_location("doctest_blocks", DOCS / "_ext" / "doctest_blocks.py")
    if importlib.util.find_spec("griffe") is None:
        pytest.skip("griffe (mkdocstrings' Python handler) is not installed: pip install -e '.[docs]'")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = "Intro.\n\n    >>> x[0]['a']\n    1\n\nExamples:\n    >>> y\n    2\n"
    assert module.fence_doctests(text).split("\n") == [
        "Intro.", "", "    ```pycon", "    >>> x[0]['a']", "    1", "    ```", "",
        "Examples:", "    >>> y", "    2", ""]


@pytest.mark.slow
def test_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs need the docs extra: pip install -e '.[docs]'")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    assert (tmp_path / "site" / "cli" / "index.html").exists()
    assert (tmp_path / "site" / "results" / "pipeline" / "index.html").exists()
