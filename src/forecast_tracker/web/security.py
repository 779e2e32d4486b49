"""Who is asking, and whether a form came from our own page: the auth modes of `serve`, signed
session cookies and the CSRF token bound to each session. No web framework here: plain functions
the app calls, each with its own test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..validate import check_name

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
TOKEN_PREFIX = "sha256:"


@dataclass(frozen=True)
class Auth:
    """How `serve` knows who is asking. `local`: nobody else can reach it (127.0.0.1), and the
    forecaster is the server's user, as on the command line; `header`: a reverse proxy that has
    authenticated the user sets `header`; `tokens`: each user holds a token whose SHA-256 is in `file`."""

    mode: str  # local | header | tokens
    header: str = ""
    file: Path | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # sha256 hex -> forecaster

    def who_has(self, token: str) -> str | None:
        """The forecaster a presented token belongs to, or None (compared in constant time)."""
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
        found = None
        for known, name in self.tokens.items():
            if hmac.compare_digest(known, digest):
                found = name
        return found


def parse_auth(spec: str | None) -> Auth:
    """`--auth` as typed: nothing (local), `header:NAME` or `tokens:FILE`."""
    if spec is None or not spec.strip():
        return Auth("local")
    kind, _, rest = spec.strip().partition(":")
    kind, rest = kind.strip().lower(), rest.strip()
    if kind == "header":
        if not rest or any(c in rest for c in " \t:()<>@,;\\\"/[]?={}") or not rest.isascii():
            raise InputError(f"{rest!r} is not an HTTP header name (header:X-Forwarded-User)", "auth")
        return Auth("header", header=rest)
    if kind == "tokens":
        if not rest:
            raise InputError("name the tokens file: tokens:FILE", "auth")
        path = Path(rest)
        return Auth("tokens", file=path, tokens=read_tokens(path))
    raise InputError(f"{spec.strip()[:40]!r} is not an auth mode: header:NAME or tokens:FILE", "auth")


def read_tokens(path: Path) -> dict[str, str]:
    """A tokens file: one `NAME sha256:HEX` per line (`#` starts a comment). Only hashes are stored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such tokens file (make one with serve --new-token NAME)", "auth") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it ({type(exc).__name__})", "auth") from None
    tokens: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, digest = line.rpartition(" ")
        digest = digest.strip().lower()
        if not name.strip() or not digest.startswith(TOKEN_PREFIX) or len(digest) != len(TOKEN_PREFIX) + 64:
            raise InputError(f"{path} line {number}: expected 'NAME sha256:HEX'", "auth")
        hexpart = digest.removeprefix(TOKEN_PREFIX)
        if any(c not in "0123456789abcdef" for c in hexpart):
            raise InputError(f"{path} line {number}: the hash is not hexadecimal", "auth")
        tokens[hexpart] = check_name(name.strip(), "auth")
    if not tokens:
        raise InputError(f"{path}: no tokens in it (add one with serve --new-token NAME)", "auth")
    return tokens


def new_token(path: Path, name: str) -> str:
    """Add a token for `name` to the tokens file (made readable by its owner only) and return it:
    the file keeps only its hash, so this is the one time the token is shown."""
    name = check_name(name, "new_token")
    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror})", "auth") from None
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(f"{name} {TOKEN_PREFIX}{digest}\n")
    return token


def public_host_refused(host: str, auth: Auth) -> str | None:
    """Why `serve` may not listen on `host` with `auth` (None: it may)."""
    if host.strip().strip("[]").lower() in LOCAL_HOSTS or auth.mode != "local":
        return None
    return f"{host} is reachable from other machines: set --auth header:NAME or --auth tokens:FILE first"


class Sessions:
    """Signed session cookies: `nonce.identity.mac`, the identity base64url, the MAC an HMAC-SHA256
    under a key made when the server starts (a restart ends every session). A session's CSRF token
    is the HMAC of its nonce, so a token is valid for its own session only."""

    COOKIE = "ft_session"

    def __init__(self, key: bytes | None = None):
        self._key = key or secrets.token_bytes(32)

    def _mac(self, message: str) -> str:
        return hmac.new(self._key, message.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def new(self, identity: str) -> str:
        nonce = secrets.token_urlsafe(16)
        who = base64.urlsafe_b64encode(identity.encode("utf-8", "surrogatepass")).decode().rstrip("=")
        return f"{nonce}.{who}.{self._mac(f'{nonce}.{who}')}"

    def read(self, cookie: str | None) -> tuple[str, str] | None:
        """(nonce, identity) of a cookie this server signed, else None."""
        if not cookie or cookie.count(".") != 2:
            return None
        nonce, who, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac(f"{nonce}.{who}")):
            return None
        try:
            identity = base64.urlsafe_b64decode(who + "=" * (-len(who) % 4)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
        return nonce, identity

    def csrf(self, nonce: str) -> str:
        return self._mac(f"csrf:{nonce}")

    def csrf_ok(self, nonce: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf(nonce), str(token))
