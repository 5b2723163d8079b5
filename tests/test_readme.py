"""The Python examples of the README and of the documentation's guide pages run as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# Pages whose ```python blocks run here (```py blocks are shown, not run: they build occupation indexes).
PAGES = [ROOT / "docs" / "getting-started.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]


def python_blocks(path: Path) -> list:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def run_blocks(path: Path) -> None:
    """Run the page's ``python`` blocks in order, in one namespace (a block may use an earlier one's names)."""
    namespace: dict = {}
    for block in python_blocks(path):
        exec(compile(block, str(path), "exec"), namespace)


@pytest.mark.slow
def test_readme_python_example_runs(capsys):
    assert python_blocks(README)
    run_blocks(README)
    assert "('llm', 'software', 'vision', 'robotics', 'vehicles')" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_docs_python_examples_run(page):
    run_blocks(page)


def test_docs_pages_with_examples_are_run():
    pages = [p.relative_to(ROOT).as_posix() for p in PAGES if python_blocks(p)]
    assert {"docs/getting-started.md", "docs/guide/tasks.md", "docs/guide/occupations.md",
            "docs/guide/encoder-kernels.md", "docs/guide/postings.md"} <= set(pages)
    unrun = [p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md")
             if p not in PAGES and not p.is_relative_to(ROOT / "docs" / "results") and python_blocks(p)]
    assert not unrun, f"```python blocks in pages no test runs: {unrun}"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    command = 'pip install -e ".[test]" && python -m pytest'
    assert command in README.read_text() and command in ci


def test_readme_is_a_landing_page():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    assert 'python -m pytest -m "not slow"' in text and "mkdocs build --strict" in text
    for link in re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)", text):
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"
