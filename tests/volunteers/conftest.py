"""Fixtures of the volunteer intake tests.

Users and what they may do (on top of tests/conftest.py):
- `applicant`: a signed-in volunteer who applies; may see and change only their own applications.
- `reviewer`: member of Reviewers; may review (claim, decide, note, open proofs), not see rosters or dashboards.
- `reviewer2`: a second reviewer, for claims.
- `organiser` (tests/conftest.py): member of Organisers; may review and also see rosters, dashboards, teams, purge.
- `outsider` (tests/conftest.py): signed in, in no group: refused by review and organiser pages.
"""
from importlib import import_module

import pytest
from django.apps import apps
from django.core import mail

from academy.notifications import sms
from tests.factories import UserFactory, make_home
from tests.factories.courses import make_course
from tests.factories.accounts import ensure_groups
from volunteers.builders import make_campaign, make_volunteers_index


def ensure_reviewers_group():
    ensure_groups()
    import_module("volunteers.migrations.0002_reviewers_group").create_groups(apps)


@pytest.fixture(autouse=True)
def _private_media_and_sms(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.SMS_BACKEND = "academy.notifications.backends.locmem.SmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sms.outbox.clear()
    mail.outbox = []
    yield
    sms.outbox.clear()


@pytest.fixture
def groups(db):
    ensure_reviewers_group()


@pytest.fixture
def applicant(db):
    return UserFactory(username="applicant", real_name="周报名", phone="+8613911112222")


@pytest.fixture
def reviewer(groups):
    return UserFactory(username="reviewer", real_name="吴审核", groups=["Reviewers"])


@pytest.fixture
def reviewer2(groups):
    return UserFactory(username="reviewer2", real_name="郑审核", groups=["Reviewers"])


@pytest.fixture
def organiser(groups):
    return UserFactory(username="organiser", real_name="钱组织", role="organiser", groups=["Organisers"])


@pytest.fixture
def training(db):
    make_home()
    return make_course(title="志愿者上岗培训", slug="volunteer-onboarding")


@pytest.fixture
def campaign(db, training):
    make_volunteers_index(make_home())
    return make_campaign(
        title="社区防控志愿者招募", slug="community-drive",
        needs=[("物资配送", 2, [training]), ("心理", 1, []), ("信息登记", 3, [training])],
        questions=[
            {"type": "question", "value": {"text": "为什么想当志愿者？", "kind": "text", "choices": [], "required": True}},
            {"type": "question", "value": {"text": "能否使用智能手机？", "kind": "single", "choices": ["能", "不能"], "required": True}},
            {"type": "question", "value": {"text": "做过哪些志愿服务？", "kind": "multiple", "choices": ["社区", "医院", "学校"], "required": False}},
            {"type": "question", "value": {"text": "体力如何？", "kind": "scale", "choices": [], "required": True}},
        ],
    )
