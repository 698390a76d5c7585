"""File-like URLs under session pages (…/calendar.ics, …/export/questions.csv).

Wagtail's page URLs allow no dots, so these paths would never reach the session page; this pattern gives them to
Wagtail's own `serve`, which routes them to the page's routes like any other path. Included by academy/urls.py
before Wagtail's catch-all, as is the personal join link /live/join/<token>/.
"""
from django.urls import re_path
from wagtail import views as wagtail_views

from live import room_views
from live.links import LINK_PATTERN, PATH_PREFIX

urlpatterns = [
    # Personal join links (live/links.py): a plain Django view, no page lookup by path.
    re_path(rf"^{PATH_PREFIX.strip('/')}/{LINK_PATTERN}/$", room_views.join, name="live_join"),
    re_path(r"^((?:[\w\-]+/)+[\w\-]+\.(?:ics|csv|xlsx))$", wagtail_views.serve, name="live_file"),
]
