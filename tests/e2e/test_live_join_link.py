"""A registrant taps their personal join link on a phone: signed in without a password, in the room, and the token
is gone from the address bar (room.js replaces it with the room's own address)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from live.links import link_path
from live.models import Registration
from tests.factories.accounts import UserFactory
from tests.factories.live import make_live_session
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_personal_link_opens_the_room_on_a_phone_and_leaves_no_token_in_the_address(asgi_server, browser):
    now = timezone.now()
    session = make_live_session(title="直播课:入场链接", registration_required=True,
                                start=now - timedelta(minutes=5), end=now + timedelta(hours=1))
    user = UserFactory(username="e2e-registrant", real_name="周报名", role="social_worker")
    path = link_path(Registration.objects.create(session=session, user=user))
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    page = context.new_page()
    response = page.goto(asgi_server + path)
    assert response.status == 200 and response.headers.get("referrer-policy") == "no-referrer"
    page.wait_for_selector("[data-connection].is-ok")  # the WebSocket's snapshot arrived: in the room
    token = path.rstrip("/").rsplit("/", 1)[1]
    assert page.url == f"{asgi_server}{session.url}room/"
    assert token not in page.url and token not in page.evaluate("document.location.href")
    assert page.locator("#ask-text").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    # Going back does not land on the token: the history entry was replaced.
    assert token not in page.evaluate("history.length > 0 ? location.href : ''")
    page.reload()
    page.wait_for_selector("[data-connection].is-ok")
    assert page.url == f"{asgi_server}{session.url}room/"  # still signed in, on the room's own address
    context.close()
