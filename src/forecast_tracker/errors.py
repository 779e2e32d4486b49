"""The project's error types: the core raises these, the CLI turns them into a line and an exit code."""

from __future__ import annotations


class TrackerError(Exception):
    """A failure that is not the user's fault (exit code 1)."""

    exit_code = 1


class InputError(TrackerError):
    """Bad input or usage: nothing was written (exit code 2).

    `field` names the value that was wrong in the core's words (`as_of`, `date`, `probability`), so a
    notebook user reads the parameter they passed; the CLI shows the matching flag instead.
    """

    exit_code = 2

    def __init__(self, message: str, field: str | None = None):
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class ValidationErrors(InputError):
    """Several problems found in one file or one batch, reported together."""

    def __init__(self, summary: str, problems: list[str]):
        self.summary = summary
        self.problems = list(problems)
        super().__init__(f"{summary}: " + "; ".join(self.problems[:3]) + (" ..." if len(problems) > 3 else ""))
