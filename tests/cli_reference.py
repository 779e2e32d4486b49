"""Writes docs/cli.md from the commands' own --help, so the manual cannot drift from the code:
`python tests/cli_reference.py` rewrites it, and tests/test_docs.py fails when it differs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
WIDTH = "100"


def commands() -> list[list[str]]:
    """Every command and sub-command, as the words that name it (db upgrade is ['db', 'upgrade'])."""
    from typer.main import get_command

    from forecast_tracker.cli import app

    group = get_command(app)
    found = []
    for name, command in sorted(group.commands.items()):  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        if subs:
            found += [[name, sub] for sub in sorted(subs)]
        else:
            found.append([name])
    return found


def render() -> str:
    from typer.testing import CliRunner

    from forecast_tracker.cli import app

    # a fixed width and no colour: the same bytes on every machine and terminal
    env = {"COLUMNS": WIDTH, "TERMINAL_WIDTH": WIDTH, "NO_COLOR": "1", "TERM": "dumb", "_TYPER_FORCE_DISABLE_TERMINAL": "1"}
    runner = CliRunner()
    parts = [
        "# Command line reference",
        "",
        "Generated from each command's `--help` by `python tests/cli_reference.py`; `tests/test_docs.py` fails",
        "when this file and the code disagree. The concepts behind the commands are in the README and the",
        "other files of `docs/`.",
        "",
        "## forecast-tracker",
        "",
        "```",
        _help(runner, app, [], env),
        "```",
    ]
    for words in commands():
        parts += ["", f"## forecast-tracker {' '.join(words)}", "", "```", _help(runner, app, words, env), "```"]
    return "\n".join(parts) + "\n"


def _help(runner, app, words: list[str], env: dict[str, str]) -> str:
    result = runner.invoke(app, [*words, "--help"], env=env, prog_name="forecast-tracker")
    if result.exit_code != 0:
        raise RuntimeError(f"{' '.join(words)} --help exited {result.exit_code}: {result.output}")
    return "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())


if __name__ == "__main__":
    os.environ.update(COLUMNS=WIDTH)
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
