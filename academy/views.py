"""Cross-cutting views of the top floor: site search."""
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from wagtail.models import Page

MAX_QUERY_LENGTH = 100


def search(request):
    query = (request.GET.get("q") or "").strip()
    error = None
    results = None
    if "q" in request.GET and not query:
        error = _("Type a word to search for.")
    elif len(query) > MAX_QUERY_LENGTH:
        error = _("Your search is too long: use at most %(n)s characters.") % {"n": MAX_QUERY_LENGTH}
    elif query:
        results = Paginator(Page.objects.live().public().specific().search(query), 10).get_page(request.GET.get("page"))
    return render(request, "academy/search.html", {"query": query, "results": results, "error": error})
