"""Docs that cannot drift: the command reference is the commands' own --help, and every file the
README sends a reader to exists."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from cli_reference import DOC, commands, render  # noqa: E402


def test_the_command_reference_is_what_help_says():
    assert DOC.read_text(encoding="utf-8") == render(), "docs/cli.md is stale: run `python tests/cli_reference.py`"


def test_the_command_reference_has_every_command():
    text = DOC.read_text(encoding="utf-8")
    for words in commands():
        assert f"\n## forecast-tracker {' '.join(words)}\n" in text


def test_every_document_the_readme_links_exists_and_the_readme_stays_short():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert {"docs/cli.md", "docs/evidence-model.md", "docs/guarantees.md", "docs/scores.md"} <= set(links)
    for link in links:
        assert (ROOT / link).is_file(), link
    assert len(readme.splitlines()) <= 160
