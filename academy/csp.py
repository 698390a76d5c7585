"""Content-Security-Policy (django-csp): strict on the public site, looser only under Wagtail's admin.

The public site runs no inline script or style (a test scans every public template): script-src and style-src are
'self' only. WebSockets to the site's own origin are named explicitly (ws:// or wss:// of the request's host),
because some in-app browsers on older engines do not let 'self' cover them.

Embeds: frames are 'self' plus CSP_EMBED_HOSTS (the operator's list of video hosts used in handbook and lesson
embeds). A live session that plays a stream from another host adds that one origin to its own room page only
(`allow_stream`): frame-src for an embedded player, media-src and connect-src for an HLS stream played by hls.js.

Wagtail 8's admin still writes inline scripts (panels, date widgets) and its editors and previews set inline styles,
so under /admin/ script-src and style-src also allow 'unsafe-inline'; everything else stays as strict.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import default_config
from django.conf import settings

ADMIN_PREFIX = "/admin/"


def admin_directives() -> dict:
    """The site's directives with inline script and style allowed: only for Wagtail's admin."""
    directives = {key: list(value) for key, value in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items()}
    directives.update({
        "script-src": [SELF, UNSAFE_INLINE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
    })
    return directives


def allow_stream(response, *, url: str, kind: str):
    """Let this response's page load a live stream from `url` (kind "embed": a player in a frame; "hls": media)."""
    parts = urlsplit(url or "")
    if kind not in ("embed", "hls") or parts.scheme not in ("http", "https") or not parts.netloc:
        return response
    origin = f"{parts.scheme}://{parts.netloc}"
    extra = {"frame-src": [origin]} if kind == "embed" else {"media-src": [origin], "connect-src": [origin]}
    update = dict(getattr(response, "_csp_update", None) or {})
    for directive, sources in extra.items():
        update[directive] = [*update.get(directive, []), *sources]
    response._csp_update = update
    return response


class SiteCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        if parts.config is None and request.path_info.startswith(ADMIN_PREFIX):
            parts.config = default_config(admin_directives())
        scheme = "wss" if request.is_secure() else "ws"
        update = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), f"{scheme}://{request.get_host()}"]
        parts.update = update
        return parts
