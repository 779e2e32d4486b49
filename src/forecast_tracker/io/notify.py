"""Send a message to where a team works (Slack, Teams, Discord, Matrix, e-mail, a webhook...) from one
Apprise URL (the optional extra `notify`). Nothing is sent unless a caller names a URL."""

from __future__ import annotations

from ..errors import InputError, TrackerError


def send(url: str, title: str, body: str, markdown: bool = False) -> None:
    """Deliver `body` to `url`; a URL Apprise cannot read is bad input, a failed delivery a failure."""
    try:
        import apprise
    except ImportError:
        raise TrackerError("--notify needs the notify extra: pip install 'forecast-tracker[notify]'") from None
    if not isinstance(url, str) or not url.strip() or "://" not in url:
        raise InputError(f"{str(url)[:60]!r} is not a notification URL (such as slack://..., mailto://..., json://host/path)", "notify")
    sender = apprise.Apprise()
    if not sender.add(url.strip()):
        raise InputError(f"{url[:60]!r} is not a notification URL Apprise knows (see its list of services)", "notify")
    kind = apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT
    if not sender.notify(title=title, body=body, body_format=kind):
        raise TrackerError(f"could not deliver the notification to {url.split('://', 1)[0]}://... (nothing else changed)")
