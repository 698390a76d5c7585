"""Names and reasons typed by organisers (re-issue, revoke) or stored on profiles before text was cleaned at the
edge: what a certificate prints and records is cleaned by academy/text.py's one rule."""
import pytest
from django.core.exceptions import ValidationError

from courses.certificates import services
from tests.factories import UserFactory
from tests.factories.certificates import complete


@pytest.fixture
def certificate(volunteer, course):
    return services.certificate_issue(completion=complete(volunteer, course))


def test_issuing_prints_the_real_name_without_control_or_bidi_characters(course):
    learner = UserFactory(username="dirty", real_name="\u202e赵\x07六\ufeff")  # a row stored before the rule
    certificate = services.certificate_issue(completion=complete(learner, course))
    assert certificate.holder_name == "赵六"


def test_an_invisible_real_name_falls_back_to_the_username(course):
    learner = UserFactory(username="invisible", real_name="\u200b\u2060\x1f")
    certificate = services.certificate_issue(completion=complete(learner, course))
    assert certificate.holder_name == "invisible"


def test_reissue_cleans_the_typed_name_and_reason(certificate, organiser):
    new = services.certificate_reissue(certificate=certificate, actor=organiser, holder_name="\u2066王\x1b志愿\u2069",
                                       reason="姓名\x00更正\u202e")
    assert new.holder_name == "王志愿"
    assert new.events.get().details["reason"] == "姓名更正"


@pytest.mark.parametrize("name", ["\u200b\u200d", "\ufeff", "\x01\x02", "\u202e "])
def test_reissue_refuses_a_name_that_is_only_invisible_characters(certificate, organiser, name):
    with pytest.raises(ValidationError) as error:
        services.certificate_reissue(certificate=certificate, actor=organiser, holder_name=name)
    assert "holder_name" in error.value.message_dict


def test_revoke_keeps_the_reasons_lines_and_drops_controls_and_refuses_invisible_reasons(certificate, organiser):
    with pytest.raises(ValidationError):
        services.certificate_revoke(certificate=certificate, actor=organiser, reason="\u200b\x07")
    revoked = services.certificate_revoke(certificate=certificate, actor=organiser, reason="第一\x1b行\r\n第二行\u202e")
    assert revoked.revocation_reason == "第一行\n第二行"
