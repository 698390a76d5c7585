"""Views of the manual's routes: the progress endpoint, the PDF and the earlier editions.

Progress endpoint: POST /handbook/<chapter>/read/ (a route of ChapterPage).

Two callers: the sentinel script at the end of a chapter (fetch with the CSRF header, wants JSON) and the
"mark as read" form (works without JavaScript: redirects back to the chapter with a message).
"""
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
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


# --- The manual's PDF and its editions ----------------------------------------------------------------------------


def _edition_or_404(handbook, slug):
    from handbook.models import HandbookEdition

    edition = HandbookEdition.objects.filter(handbook=handbook, slug=slug).first()
    if edition is None:
        raise Http404
    return edition


def manual_pdf(request, handbook, edition_slug=None):
    """The PDF of the current edition (or of an earlier one), rebuilt here when a publish has not rebuilt it yet."""
    from handbook.caching import manual_fingerprint
    from handbook.services import edition_pdf_build, edition_record

    if edition_slug is None:
        edition = handbook.editions.order_by("-started_at", "-pk").first() or edition_record(handbook=handbook)
        if not edition.pdf or edition.pdf_fingerprint != manual_fingerprint(handbook.path):
            edition = edition_pdf_build(edition=edition)
    else:
        edition = _edition_or_404(handbook, edition_slug)
        if not edition.pdf:
            edition = edition_pdf_build(edition=edition)
    name = f"{handbook.title}{('-' + edition.label) if edition.label else ''}.pdf"
    response = FileResponse(edition.pdf.open("rb"), content_type="application/pdf", filename=name)
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-cache"
    return response


def edition_list(request, handbook):
    editions = list(handbook.editions.order_by("-started_at", "-pk"))
    return TemplateResponse(request, "handbook/edition_list.html", {
        "page": handbook, "self": handbook, "editions": editions, "current": editions[0] if editions else None,
    })


def edition_contents(request, handbook, slug):
    edition = _edition_or_404(handbook, slug)
    current = handbook.editions.order_by("-started_at", "-pk").first()
    return TemplateResponse(request, "handbook/edition_contents.html", {
        "page": handbook, "self": handbook, "edition": edition, "is_current": edition == current,
        "copies": list(edition.chapters.order_by("number", "pk")),
    })


def edition_chapter(request, handbook, slug, chapter_slug):
    edition = _edition_or_404(handbook, slug)
    copy = edition.chapters.filter(slug=chapter_slug).first()
    if copy is None:
        raise Http404
    chapter = copy.as_page()
    blocks = chapter.body_blocks()
    current = handbook.editions.order_by("-started_at", "-pk").first()
    return TemplateResponse(request, "handbook/edition_chapter.html", {
        "page": handbook, "self": handbook, "edition": edition, "is_current": edition == current,
        "chapter": chapter, "copy": copy, "blocks": blocks, "contents": chapter.contents(blocks),
        "live_chapter": copy.chapter if copy.chapter is not None and copy.chapter.live else None,
    })
