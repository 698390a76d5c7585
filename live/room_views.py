"""The live room's pages: the participant room and the moderator console (LiveSessionPage routes "room/" and
"console/"), and the personal join link (/live/join/<token>/, live/urls.py) that serves the room at once.
All are shells: everything live arrives over the WebSocket (docs/live-protocol.md)."""
from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from academy import ratelimit
from academy.accounts.backends import SESSION_BACKEND
from academy.csp import allow_stream
from academy.ratelimit import client_ip
from live import links
from live.selectors.access import session_can_join, session_can_moderate, user_is_banned
from live.services import room as services
from live.services.room import RoomError


def _strings() -> dict:
    """The room scripts' texts, translated here (the scripts hold no language)."""
    return {
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost: reconnecting in %s s…"),
        "closed_4401": _("Please log in again to join the room."),
        "closed_4403": _("You may not join this room. Register for the session first."),
        "closed_4404": _("This live session does not exist."),
        "closed_4410": _("You have been removed from this room by a moderator."),
        "closed_4411": _("This session is private: open the session page to get access."),
        "closed_4500": _("The server could not let you in just now: trying again in %s s…"),
        "status_scheduled": _("Not started"),
        "status_live": pgettext("room status", "Live"),
        "status_ended": _("Ended"),
        "participants": _("%s online"),
        "anonymous": _("Anonymous"),
        "pending": _("Awaiting approval"),
        "answered": _("Answered"),
        "answering": _("Now answering"),
        "pinned": _("Pinned"),
        "dismissed": _("Dismissed"),
        "reply_from": _("Reply from %s"),
        "vote": _("Upvote"),
        "voted": _("Upvoted"),
        "votes": _("%s upvotes"),
        "no_questions": _("No questions yet. Ask the first one!"),
        "no_match": _("No question matches your search."),
        "empty_pending": _("No questions are waiting for approval."),
        "empty_approved": _("No published questions yet."),
        "empty_answered": _("No questions have been answered yet."),
        "empty_dismissed": _("No dismissed questions."),
        "show_more": _("Show more (%s)"),
        "start": _("Start the session"),
        "restart": _("Start the session again"),
        "no_poll": _("No poll at the moment."),
        "poll_closed": _("Poll closed"),
        "poll_answered": _("Thank you for answering."),
        "poll_submit": _("Submit"),
        "close_poll": _("Close the poll"),
        "respondents": _("%s answered"),
        "asked": _("Your question was sent."),
        "asked_pending": _("Your question was sent and awaits a moderator's approval."),
        "approve": _("Approve"),
        "dismiss": _("Dismiss"),
        "highlight": _("Answer now"),
        "unhighlight": _("Stop answering"),
        "mark_answered": _("Mark answered"),
        "pin": _("Pin"),
        "unpin": _("Unpin"),
        "reply": _("Reply"),
        "reply_placeholder": _("A short written reply (up to 500 characters)"),
        "send": _("Send"),
        "ban": _("Ban"),
        "ban_confirm": _("Remove %s from this room? They will not be able to come back."),
        "no_topic": _("No topic"),
        "topic_label": _("Topic"),
        "chars_left": _("%s characters left"),
        "error": _("Error"),
    }


def _context(request, page, *, moderator: bool) -> dict:
    return {
        "page": page,
        "self": page,
        "ws_path": page.websocket_path,
        "is_moderator": moderator,
        "room_strings": _strings(),
        "room_config": {"ws": page.websocket_path, "session": page.pk, "moderator": moderator},
    }


# --- the room as a cached shell -------------------------------------------------------------------------------
# The participant page is the same HTML for everyone in a session (who you are, your votes and your role arrive in
# the WebSocket's snapshot), so it is rendered once per session, page revision and language and kept in this
# process's memory (not Django's cache: a Redis round trip per tap cost more than rendering once per process).
# Per request only two things are put in: the CSRF token (one str.replace) and the messages, if any.
SHELL_VERSION = 1  # raise when room.html or what it shows changes in a way a cached copy must not outlive
CSRF_MARKER = "live-shell-csrf-token-3f9c"
MESSAGES_MARKER = mark_safe("<!--live-shell-messages-->")


class _ShellUser:
    """The `user` the shell is rendered with: signed in (every visitor of the room is), and nobody in particular."""

    is_authenticated = True
    is_anonymous = False
    pk = id = None
    display_name = ""


def room_shell_key(page) -> str:
    published = page.last_published_at.timestamp() if page.last_published_at else 0
    return (f"live:room-shell:{SHELL_VERSION}:{page.pk}:{page.live_revision_id or 0}:{published:.0f}:"
            f"{translation.get_language()}")


SHELLS_KEPT = 64  # shells per process (sessions × languages); past it the expired ones go, then all
_shells: dict[str, tuple[float, str]] = {}


def forget_shells() -> None:
    """Drop this process's shells (tests; a new page revision needs no call: it makes a new key)."""
    _shells.clear()


def room_shell_html(request, page) -> str:
    """The room page for `page` as every participant gets it, before the per-request parts are put in."""
    seconds = settings.LIVE_ROOM_SHELL_SECONDS  # a new revision of the page makes a new key at once
    key = room_shell_key(page)
    now = time.monotonic()
    hit = _shells.get(key) if seconds else None
    if hit is not None and hit[0] > now:
        return hit[1]
    context = {**_context(request, page, moderator=False), "user": _ShellUser(), "perms": {},
               "csrf_token": CSRF_MARKER, "messages": (), "messages_marker": MESSAGES_MARKER}
    context["room_config"]["room"] = page.url + "room/"  # room.js puts it in the address bar (join links)
    html = render_to_string("live/room.html", context, request=request)
    if seconds:
        if len(_shells) >= SHELLS_KEPT:
            for old_key in [k for k, (until, _html) in _shells.items() if until <= now] or list(_shells):
                del _shells[old_key]
        _shells[key] = (now + seconds, html)
    return html


def room_shell_response(request, page) -> HttpResponse:
    html = room_shell_html(request, page).replace(CSRF_MARKER, get_token(request))
    stored = messages.get_messages(request)
    notes = render_to_string("includes/messages.html", {"messages": stored}) if len(stored) else ""
    response = HttpResponse(html.replace(MESSAGES_MARKER, notes, 1))
    response["Cache-Control"] = "private, no-cache"  # the CSRF token and the messages are this visitor's
    return allow_stream(response, url=page.stream_url, kind=page.stream_kind)  # this page's stream host only


def room(request, page):
    """The participant page: stream, Q&A, poll, announcements (moderators may use it too; the snapshot's role
    shows them the console link)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if user_is_banned(session=page, user=request.user):
        raise PermissionDenied(_("You have been removed from this room by a moderator."))
    if not session_can_join(session=page, user=request.user):
        messages.info(request, _("Register for this session to join its room."))
        return redirect(page.url)
    return room_shell_response(request, page)


# --- personal join links (live/links.py) ------------------------------------------------------------------------
LINK_BAD_LIMIT = 30  # wrong tokens per address …
LINK_BAD_WINDOW = 600  # … per 10 minutes; then 429 for the rest of the window


def _link_page(request, template: str, context: dict, status: int) -> HttpResponse:
    response = TemplateResponse(request, template, context, status=status)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_GET
def join(request, token: str):
    """A personal join link: sign the registrant in without a password check and serve the room at once (one
    request; room.js then replaces the address, so the token does not stay in the address bar or the history)."""
    check = links.link_check(token)
    if check.problem == links.INVALID or (check.session is not None and not check.session.live):
        # Counted per address; past the limit the answer is 429. (A valid link is never held back: its 128-bit
        # signature cannot be guessed, and reading the counter on every good tap would cost each of them.)
        if not ratelimit.hit(f"live:link:bad:{client_ip(request)}", limit=LINK_BAD_LIMIT, window=LINK_BAD_WINDOW):
            return _link_page(request, "live/link_problem.html", {"problem": "throttled"}, status=429)
        return _link_page(request, "live/link_problem.html", {"problem": links.INVALID}, status=404)
    session, user = check.session, check.user
    if check.ok and not check.restricted and not check.banned and (
            not request.user.is_authenticated or request.user.pk == user.pk):
        # The common case, kept short: sign in (no password hash) and serve the cached shell.
        if not request.user.is_authenticated:
            login(request, user, backend=SESSION_BACKEND)
        response = room_shell_response(request, session)
        response["Referrer-Policy"] = "no-referrer"
        return response
    room_path = session.url + "room/"
    context = {"problem": check.problem, "session": session, "page": session, "room_path": room_path}
    if check.problem in (links.CANCELLED, links.EXPIRED):
        return _link_page(request, "live/link_problem.html", context, status=410)
    if request.user.is_authenticated and request.user.pk != user.pk:
        # Never switch accounts silently: say whose link this is not, and let the visitor choose.
        context.update(problem="other_user", link_path=request.path)
        return _link_page(request, "live/link_problem.html", context, status=409)
    if check.problem == links.PRIVILEGED:  # organisers log in with their password, whoever holds the link
        if request.user.is_authenticated:
            return redirect(room_path)
        return redirect_to_login(room_path)
    if check.restricted:  # a private session: the room's own route runs Wagtail's password or group check
        if not request.user.is_authenticated:
            login(request, user, backend=SESSION_BACKEND)
        return redirect(room_path)
    # Left: banned (registered, not banned and not restricted were served above: session_can_join's answer, read
    # in link_check, so the shell is served without asking again).
    raise PermissionDenied(_("You have been removed from this room by a moderator."))


@require_POST
def ask(request, page):
    """The question form without JavaScript: the same service as the room's `question.ask`, then back to the room
    with a message (the room's live list shows it once the page is loaded again)."""
    if not request.user.is_authenticated:
        return redirect_to_login(page.url + "room/")
    if not session_can_join(session=page, user=request.user):
        raise PermissionDenied(_("You may not join this room."))
    try:
        question = services.question_ask(session=page, author=request.user, text=request.POST.get("text", ""),
                                         anonymous=bool(request.POST.get("anonymous")))
    except RoomError as error:
        messages.error(request, str(error.message))
    else:
        if question.status == question.Status.PENDING:
            messages.success(request, _("Your question was sent and awaits a moderator's approval."))
        else:
            messages.success(request, _("Your question was sent."))
    return redirect(page.url + "room/")


def console(request, page):
    """The moderator console: queue, actions, poll control, topic, counts."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not session_can_moderate(session=page, user=request.user):
        raise PermissionDenied(_("Only the session's moderators and hosts may use the console."))
    return TemplateResponse(request, "live/console.html", _context(request, page, moderator=True))
