"""/healthz: 200 only when everything a page needs answers; publicly only ok/failed per check, reasons in the log."""
import logging

import pytest
from django.test import override_settings

CHECKS = {"database", "cache", "channel_layer", "static", "template"}
DEAD_REDIS = "redis://127.0.0.1:1/0"
MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


@pytest.mark.django_db
def test_healthz_reports_every_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {name: "ok" for name in CHECKS}}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_does_not_answer_and_keeps_the_reason_for_the_log(client, caplog):
    dead = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    with override_settings(CACHES=dead), caplog.at_level(logging.ERROR, logger="academy.health"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failed"
    assert body["checks"]["cache"] == "failed"
    assert body["checks"]["database"] == "ok"
    assert "127.0.0.1" not in response.content.decode()  # the reason names the host: not for anonymous callers
    assert any("cache check failed" in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.django_db
def test_healthz_is_503_when_the_channel_layer_does_not_answer(client):
    dead = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                        "CONFIG": {"hosts": [DEAD_REDIS]}}}
    with override_settings(CHANNEL_LAYERS=dead):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"] == "failed"
    assert "6379" not in response.content.decode() and ":1/" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_is_503_with_debug_off_and_no_collected_static_files(client, settings, tmp_path):
    # What a newcomer got before: every page 500 (no manifest entry for site.css) while /healthz said ok.
    settings.DEBUG = False
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = MANIFEST_STORAGE
    response = client.get("/healthz", secure=True)
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["static"] == "failed"
    assert checks["template"] == "failed"  # base.html links site.css through the same manifest
    assert checks["database"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_base_template_does_not_render(client, settings, tmp_path):
    broken = tmp_path / "templates"
    broken.mkdir()
    (broken / "base.html").write_text("{% load no_such_library %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(broken)]}]
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["template"] == "failed"
    assert response.json()["checks"]["static"] == "ok"
