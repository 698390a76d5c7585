"""Factories and page builders shared by the tests and by `load_demo`.

One module per app (`tests.factories.handbook`, …); each app's module may define
`load_demo(*, users, log)`, which `load_demo` calls in the order of academy.demo.DEMO_STEPS.
"""
from .accounts import DEMO_USERS, UserFactory, ensure_demo_users, ensure_groups
from .pages import make_home

__all__ = ["DEMO_USERS", "UserFactory", "ensure_demo_users", "ensure_groups", "make_home"]
