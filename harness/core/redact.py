"""Secrets out of records and logs: URL userinfo, secret-looking query parameters and mapping keys.

One helper for every place statbench writes what a user gave it (``spec.json``, ``provenance.json``, job
outcomes, error lines, progress and log lines)::

    redact_url("http://user:PW@host/v1?api-key=T&x=1")  ->  "http://user:***@host/v1?api-key=***&x=1"
    redact_text("... http://h/v1?token=T ...")          ->  "... http://h/v1?token=*** ..."
    redact({"base_url": ..., "api_key": "sk-..."})      ->  the same structure, URLs redacted, secret keys ``***``

What carries no secret is returned unchanged, character for character (so a spec hash over it is stable).
Names of environment variables that hold a secret (``api_key_env``) are not secrets and are kept.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"

# a key (query parameter, mapping key, KEY=VALUE option) whose value is a secret: ``api-key``, ``api_key``,
# ``apikey``, ``key``, ``token``, ``access_token``, ``x-api-key``, ``secret``, ``client_secret``, ``password``,
# ``passwd``, ``pwd``, ``sig``, ``signature``, ``authorization``, ``credential(s)``, ``sessionToken``...
_SECRET_KEY = re.compile(
    r"^(?:.*[_.])?(?:api_?key|key|token|secret|password|passwd|pwd|pass|sig|signature|auth|authorization"
    r"|credentials?|bearer)$"
    r"|(?:apikey|accesskey|secretkey|privatekey|accesstoken|authtoken|sessiontoken|refreshtoken|idtoken)$"
)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")


def is_secret_key(name: str) -> bool:
    """Whether a parameter or field called ``name`` holds a secret (``api-key``, ``token``, ...; not ``*_env``)."""
    norm = unquote(str(name)).strip().lower().replace("-", "_")
    return bool(norm) and not norm.endswith("_env") and bool(_SECRET_KEY.search(norm))


def _redact_query(query: str) -> str:
    parts = query.split("&")
    out = []
    for part in parts:
        key, eq, value = part.partition("=")
        out.append(f"{key}={MASK}" if eq and value and is_secret_key(key) else part)
    return "&".join(out)


def redact_url(url: str) -> str:
    """``url`` with its password (or a lone user token) and secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, password = userinfo.partition(":")
        userinfo = f"{user}:{MASK}" if colon and password else MASK if user else userinfo
        netloc = f"{userinfo}@{host}"
    query = _redact_query(parts.query) if parts.query else parts.query
    if netloc == parts.netloc and query == parts.query:
        return url  # nothing secret: the very same string
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Every URL inside ``text`` redacted (``redact_url``); the rest unchanged."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def redact(obj: Any) -> Any:
    """``obj`` (JSON-like: dicts, lists, strings, numbers) with URLs in strings redacted and the string values
    of secret-looking keys replaced by ``***``. Unchanged parts keep their identity and order."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {
            k: MASK if isinstance(v, str) and v and isinstance(k, str) and is_secret_key(k) else redact(v)
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(redact(v) for v in obj)
    return obj


def split_query(url: str) -> tuple[str, dict[str, str]]:
    """``http://h/v1?a=1&b=2`` -> (``http://h/v1``, ``{"a": "1", "b": "2"}``): a base URL an SDK can append
    paths to, and the query it must send as a query string with every request."""
    from urllib.parse import parse_qsl

    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    return base, dict(parse_qsl(parts.query, keep_blank_values=True))
