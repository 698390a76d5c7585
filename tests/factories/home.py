"""The home page's demo step (re-exported from academy/demo.py)."""
from academy.demo import HOME_INTRO, HOME_TAGLINE, load_demo

from .pages import make_home

__all__ = ["HOME_INTRO", "HOME_TAGLINE", "load_demo", "make_home"]
