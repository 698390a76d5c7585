"""The home page builder (academy's top floor: the home page type knows every section of the site).

`make_home()` returns the site's home page, creating it and its default Site when a fresh or flushed database lacks
them. The apps' builders never import this module: they build under `academy.pages.site_root()`.
"""
from django.conf import settings
from wagtail.models import Locale, Page, Site

from academy.models import HomePage


def make_home() -> HomePage:
    """The site's home page, created with its Site when a flushed (transactional) test database lacks it."""
    Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
        home = root.add_child(instance=HomePage(title="联动学堂", slug="home", tagline="三社联动线上培训平台"))
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home, "site_name": "联动学堂"}
    )
    return home
