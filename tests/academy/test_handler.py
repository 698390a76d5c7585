"""academy/handler.py: a request through the ASGI application crosses to the sync thread once for the whole
middleware chain and view, and still gets everything the chain adds."""
import asgiref.sync
import pytest
from channels.testing import HttpCommunicator
from django.core.asgi import get_asgi_application as djangos_asgi_application

from academy.asgi import django_asgi_app
from academy.handler import OneHopASGIHandler


@pytest.fixture
def hops(monkeypatch):
    """Counts the crossings from the event loop to a sync thread (asgiref's SyncToAsync calls)."""
    counted = []
    real_call = asgiref.sync.SyncToAsync.__call__

    async def counting_call(self, *args, **kwargs):
        counted.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await real_call(self, *args, **kwargs)

    monkeypatch.setattr(asgiref.sync.SyncToAsync, "__call__", counting_call)
    return counted


async def get(application, path: str, headers=()) -> dict:
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"testserver"), *headers])
    return await communicator.get_response(timeout=10)


def header(response: dict, name: bytes) -> bytes | None:
    return next((value for key, value in response["headers"] if key.lower() == name), None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_page_crosses_to_the_sync_thread_once_and_keeps_what_the_middleware_adds(hops):
    assert isinstance(django_asgi_app, OneHopASGIHandler)
    response = await get(django_asgi_app, "/accounts/login/", [(b"accept-language", b"zh-CN")])
    assert response["status"] == 200
    assert b"script-src" in header(response, b"content-security-policy")  # academy/csp.py
    assert header(response, b"x-frame-options") == b"SAMEORIGIN"
    assert b"csrftoken=" in b" ".join(value for key, value in response["headers"] if key == b"Set-Cookie")
    assert header(response, b"content-language") == b"zh-hans"
    # The request_started signal, the whole chain with the view, and the response's close.
    assert hops.count("BaseHandler.get_response") == 1
    assert len(hops) <= 3, hops


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_djangos_own_handler_crosses_more_often(hops):
    """What academy/handler.py replaces: the test above would fail with Django's handler."""
    response = await get(djangos_asgi_application(), "/accounts/login/")
    assert response["status"] == 200
    assert len(hops) > 3, hops  # 7 with our middleware


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_async_view_still_answers_under_the_sync_chain():
    response = await get(django_asgi_app, "/healthz")  # academy/health.py's view is a coroutine
    assert response["status"] == 200, response["body"]
    assert b'"status": "ok"' in response["body"]
