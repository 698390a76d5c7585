"""The live room's pages: the participant room and the moderator console (LiveSessionPage routes "room/" and
"console/"). Both are shells: everything live arrives over the WebSocket (docs/live-protocol.md)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from academy.csp import allow_stream
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
        "room_config": {"ws": page.websocket_path, "session": page.pk, "moderator": moderator,
                        "user": request.user.pk},
    }


def room(request, page):
    """The participant page: stream, Q&A, poll, announcements (moderators may use it too)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if user_is_banned(session=page, user=request.user):
        raise PermissionDenied(_("You have been removed from this room by a moderator."))
    if not session_can_join(session=page, user=request.user):
        messages.info(request, _("Register for this session to join its room."))
        return redirect(page.url)
    moderator = session_can_moderate(session=page, user=request.user)
    response = TemplateResponse(request, "live/room.html", _context(request, page, moderator=moderator))
    return allow_stream(response, url=page.stream_url, kind=page.stream_kind)  # this page's stream host only


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
