"""The WebSocket origin check: a handshake's `Origin` must be one of the site's own origins — scheme, host and port
alike, not the host name only (Channels' AllowedHostsOriginValidator lets `http://127.0.0.1:9999` and
`https://127.0.0.1` through for a site at `http://127.0.0.1:8000`).

The site's origins: `SITE_URL`, every `CSRF_TRUSTED_ORIGINS` entry (`https://*.example.org` allows its subdomains,
as Django's CSRF check does), and the origin the handshake itself was made to (its scheme — ws → http, wss →
https — and its `Host` header, which must be one of `ALLOWED_HOSTS`): what a page of this very server opens. With
`DEBUG` on, the loopback names (localhost, 127.0.0.1, [::1]) stand for each other on the same port, as dev servers
are reached by either.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL, lower-cased, with the scheme's default port filled in."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _matches(origin: tuple[str, str, int], allowed: tuple[str, str, int]) -> bool:
    scheme, host, port = allowed
    if origin[0] != scheme or origin[2] != port:
        return False
    if host.startswith("*."):
        return origin[1].endswith(host[1:]) or origin[1] == host[2:]
    return origin[1] == host


def site_origins() -> list[tuple[str, str, int]]:
    configured = [settings.SITE_URL, *getattr(settings, "CSRF_TRUSTED_ORIGINS", [])]
    found = []
    for url in configured:
        # urlsplit does not take "*" in a host name: keep the wildcard aside.
        wildcard = "://*." in url
        origin = _origin(url.replace("://*.", "://wildcard.") if wildcard else url)
        if origin is not None:
            found.append((origin[0], "*." + origin[1][len("wildcard."):] if wildcard else origin[1], origin[2]))
    return found


def handshake_origin(scope) -> tuple[str, str, int] | None:
    """The origin of the server the handshake was made to, when its Host is one of ALLOWED_HOSTS."""
    host = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"host"), None)
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return _origin(f"{scheme}://{host}")


def origin_allowed(scope) -> bool:
    raw = next((value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"origin"), None)
    if raw is None:
        return False
    origin = _origin(raw)
    if origin is None:
        return False
    allowed = site_origins()
    own = handshake_origin(scope)
    if own is not None:
        allowed.append(own)
        if settings.DEBUG and own[1] in LOOPBACK:
            allowed.extend((own[0], name, own[2]) for name in LOOPBACK)
    return any(_matches(origin, candidate) for candidate in allowed)


class SiteOriginValidator:
    """ASGI middleware: a WebSocket handshake from another origin is refused (HTTP 403) before it reaches the app."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.application(scope, receive, send)
