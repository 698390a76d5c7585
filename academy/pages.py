"""Page-tree helpers every app's builders use (academy's base floor: it knows no app and no home page type).

- `site_root()`: the default site's root page (the home page), where each app's index page is built.
- `add_child_once(parent, page)`: add `page` under `parent` and publish it, unless a child with its slug exists.
"""
from wagtail.models import Page, Site


class NoSiteError(LookupError):
    pass


def site_root() -> Page:
    """The default site's root page (specific). The home page is built first (academy.builders.make_home)."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        raise NoSiteError("There is no default site yet: build the home page first (academy.builders.make_home).")
    return site.root_page.specific


def add_child_once(parent: Page, page: Page) -> Page:
    """Add `page` under `parent` unless a child with its slug exists; return the (specific) page."""
    existing = parent.get_children().filter(slug=page.slug).first()
    if existing is not None:
        return existing.specific
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page
