"""Progress endpoint: POST /handbook/<chapter>/read/ (a route of ChapterPage).

Two callers: the sentinel script at the end of a chapter (fetch with the CSRF header, wants JSON) and the
"mark as read" form (works without JavaScript: redirects back to the chapter with a message).
"""
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from academy import ratelimit
from handbook.models import ChapterRead
from handbook.selectors import handbook_progress
from handbook.services import NOT_SIGNED_IN, ProgressError, chapter_mark_read

RATE_LIMIT = 120  # progress posts per reader per minute: more than anyone reads
TOO_MANY = gettext_lazy("Too many requests: wait a minute and try again.")


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def chapter_mark_read_view(request, chapter):
    wants_json = _wants_json(request)
    if not request.user.is_authenticated:
        if wants_json:
            return JsonResponse({"ok": False, "error": str(NOT_SIGNED_IN)}, status=403)
        return redirect_to_login(chapter.url)
    if not ratelimit.hit(f"handbook-read:{request.user.pk}", limit=RATE_LIMIT, window=60):
        if wants_json:
            return JsonResponse({"ok": False, "error": str(TOO_MANY)}, status=429)
        messages.error(request, str(TOO_MANY))
        return redirect(chapter.url)
    method = request.POST.get("method")
    method = ChapterRead.Method.REACHED_END if method == ChapterRead.Method.REACHED_END else ChapterRead.Method.BUTTON
    try:
        _record, created = chapter_mark_read(user=request.user, chapter=chapter, method=method)
    except ProgressError as error:
        if wants_json:
            return JsonResponse({"ok": False, "error": str(error)}, status=400)
        messages.error(request, str(error))
        return redirect(chapter.url)
    progress = handbook_progress(user=request.user, handbook=chapter.get_parent().specific)
    if wants_json:
        return JsonResponse({"ok": True, "created": created, "read": progress.read, "total": progress.total})
    if created:
        messages.success(request, _("Chapter marked as read: %(read)s of %(total)s read.")
                         % {"read": progress.read, "total": progress.total})
    return redirect(chapter.url)
