"""Test factories, and the names the tests have always imported from here.

The builders that `load_demo` uses live beside the code they build (academy/pages.py, academy/builders.py,
<app>/builders.py; each app's demo step in <app>/demo.py); these modules re-export them under their old names so
tests import them from one place. What only tests need stays here: factory_boy's `UserFactory`, row shortcuts such
as `enrol` and `complete`, and the live room's WebSocket helpers (tests/factories/live_room.py).
"""
from academy.builders import make_home
from academy.demo import DEMO_USERS, ensure_demo_users

from .accounts import UserFactory, ensure_groups

__all__ = ["DEMO_USERS", "UserFactory", "ensure_demo_users", "ensure_groups", "make_home"]
