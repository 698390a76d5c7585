"""Cross-cutting views of the top floor: site search."""
from django.core.paginator import Paginator
from django.shortcuts import render
from wagtail.models import Page

from academy.search import MAX_QUERY_LENGTH, search_pages, validate_query

RESULTS_PER_PAGE = 10

__all__ = ["MAX_QUERY_LENGTH", "search"]


def search(request):
    """Site search (/search/?q=): Chinese words of two or more characters are found inside longer text; title
    matches first; snippets highlight the match. Nothing the user typed is echoed unescaped."""
    query = (request.GET.get("q") or "").strip()
    error = None
    results = None
    if "q" in request.GET:
        error = validate_query(query)
        if error is None:
            hits = search_pages(Page.objects.live().public(), query)
            results = Paginator(hits, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "academy/search.html", {"query": query, "results": results, "error": error})
