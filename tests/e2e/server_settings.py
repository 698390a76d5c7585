"""The browser tests' server process: the project's settings with the tests' fast password hasher first
(tests/conftest.py gives the test process the same), so the users a test creates and the log-ins the server checks
cost no PBKDF2 rounds. The project's own hashers follow, so a password set by a module-scoped fixture (it runs before
the per-test settings apply: the journeys' demo accounts) is still accepted. Nothing else differs from
academy.settings."""
from academy.settings import *  # noqa: F401,F403
from django.conf.global_settings import PASSWORD_HASHERS as PROJECT_HASHERS  # academy.settings keeps Django's

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PROJECT_HASHERS]
