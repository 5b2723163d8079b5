"""A griffe extension for the API reference: doctest lines become code blocks, Sphinx roles code.

The package's docstrings carry doctest examples (``>>> ...`` and their output) in their prose, outside
any ``Examples:`` section. Read as Markdown, ``x[0]["a"]`` in such a line is a link reference that
cannot be resolved, and the lines run together into one paragraph. This extension fences every run of
doctest lines (up to the next blank line) as a ``pycon`` block; ``Examples:`` sections are left to
griffe's Google-style parser, which already reads them as code. Sphinx roles (``:func:`~a.b` ``),
which Markdown shows as written, become inline code (``b``, or ``a.b`` without the tilde).
"""

from __future__ import annotations

import re
from typing import Any, List

import griffe

_ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|exc|obj):`(~?)([^`]+)`")
_SECTION = re.compile(r"^(\s*)(Examples?|Args|Arguments|Parameters|Returns|Raises|Attributes|Yields|Note|Notes):\s*$")


def fence_doctests(text: str) -> str:
    """``text`` with each run of doctest lines outside an ``Examples:`` section fenced as ``pycon``.

    >>> fence_doctests("Intro.\\n\\n>>> 1 + 1\\n2\\n\\nEnd.").splitlines()
    ['Intro.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'End.']
    """
    lines = text.split("\n")
    out: List[str] = []
    example_indent = None  # the indent of an open Examples: section header
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        header = _SECTION.match(line)
        if header:
            example_indent = indent if header.group(2) == "Examples" else None
        elif example_indent is not None and stripped and indent <= example_indent:
            example_indent = None
        if example_indent is None and stripped.startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][indent:] if lines[i][:indent].isspace() or not indent else lines[i].lstrip())
                i += 1
            pad = " " * indent
            out += [pad + "```pycon"] + [pad + b for b in block] + [pad + "```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def plain_roles(text: str) -> str:
    """``text`` with each Sphinx cross-reference role written as inline code.

    >>> plain_roles("See :func:`~exposure.kernels.reduce` and :mod:`exposure.jobs`.")
    'See `reduce` and `exposure.jobs`.'
    """
    return _ROLE.sub(lambda m: "`" + (m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2)) + "`", text)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest lines of every docstring and write its Sphinx roles as code."""

    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(fence_doctests(obj.docstring.value))
