"""Certificates tests: a signing key pair made once per session (tests run with DEBUG off, where nothing is
generated), the issuer's settings, a course that gives a certificate."""
from decimal import Decimal

import pytest

from courses.certificates import keys
from tests.factories.certificates import set_issuer
from tests.factories.courses import make_course


@pytest.fixture(scope="session")
def signing_pem():
    rsa_key = keys.load_key(keys.generate_private_key(keys.RS256))
    ed_key = keys.load_key(keys.generate_private_key(keys.EDDSA))
    return rsa_key.private_pem() + ed_key.private_pem()


@pytest.fixture(autouse=True)
def _signing_keys(settings, signing_pem):
    settings.CERTIFICATE_SIGNING_KEYS = signing_pem
    settings.CERTIFICATE_SIGNING_KEY_FILE = ""


@pytest.fixture
def issuer(home):
    return set_issuer()


@pytest.fixture
def course(home, issuer):
    return make_course(title="志愿者上岗培训", slug="volunteer-onboarding", hours_credited=Decimal("3.0"))
