"""Page-tree builders (re-exported from academy/builders.py and academy/pages.py)."""
from wagtail.models import Site

from academy.builders import make_home
from academy.pages import add_child_once, site_root

__all__ = ["add_child_once", "ensure_home", "make_home", "site_root"]


def ensure_home() -> None:
    """Build the home page and its site when a flushed (transactional) test database lacks them; otherwise touch
    nothing (saving the Site would clear Wagtail's site cache, which query-count tests would notice)."""
    if not Site.objects.filter(is_default_site=True).exists():
        make_home()
