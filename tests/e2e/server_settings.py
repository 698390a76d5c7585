"""The browser tests' server process: the project's settings with the tests' fast password hasher (tests/conftest.py
gives the test process the same), so the users a test creates and the log-ins the server checks cost no PBKDF2
rounds. Nothing else differs from academy.settings."""
from academy.settings import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
