"""Settings are read from the environment; production refuses to start without a secret key."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROD = {"DEBUG": "false", "SECRET_KEY": "x" * 64 + "-production-key-for-tests", "ALLOWED_HOSTS": "academy.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://academy.example.org"}


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    unset = ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "REDIS_URL")
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "academy.settings", **env},
                          capture_output=True, text=True, timeout=120)


def test_debug_off_without_secret_key_stops_with_a_clear_message():
    result = _run("import django; django.setup()", {"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_on_uses_the_development_key():
    result = _run("from django.conf import settings; print(settings.SECRET_KEY)", {"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("development-only-key")


def test_environment_selects_database_and_redis():
    code = ("from django.conf import settings; print(settings.DATABASES['default']['ENGINE']);"
            "print(settings.CHANNEL_LAYERS['default']['BACKEND']); print(settings.CACHES['default']['BACKEND'])")
    result = _run(code, {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "channels_redis.pubsub.RedisPubSubChannelLayer",
                                     "django.core.cache.backends.redis.RedisCache"]
    result = _run(code, {})
    assert result.stdout.split() == ["django.db.backends.sqlite3", "channels.layers.InMemoryChannelLayer",
                                     "django.core.cache.backends.locmem.LocMemCache"]


def test_deploy_check_passes_with_production_variables():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env={**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}, **PROD}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_language_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
