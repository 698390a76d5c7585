"""Settings are read from the environment; production refuses to start without a secret key."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_SOURCE = (ROOT / "academy" / "settings.py").read_text(encoding="utf-8")
READ = re.compile(r"""\benv(?:\.[a-z_]+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")
READ_BY_SETTINGS = set(READ.findall(SETTINGS_SOURCE))
PROD = {"DEBUG": "false", "SECRET_KEY": "x" * 64 + "-production-key-for-tests", "ALLOWED_HOSTS": "academy.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://academy.example.org"}


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in READ_BY_SETTINGS | {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
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
                                     "academy.cache.RedisCache"]
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


# --- What the documentation promises is what settings read -------------------------------------------------

NAME = re.compile(r"`([A-Z][A-Z0-9_]{2,})`")
EXAMPLE_LINE = re.compile(r"^#?([A-Z][A-Z0-9_]+)=(.*)$")


def _section(path: Path, heading: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end != -1 else None]


def _table_names(section: str) -> set[str]:
    """Variable names in the first column of the section's Markdown tables."""
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(NAME.findall(line.split("|")[1]))
    return names


def test_settings_read_the_variables_the_check_expects():
    # The parser of this module must see what settings.py reads, or the comparisons below prove nothing.
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DATABASE_POOL_SIZE", "LIVE_HISTORY_SIZE"} <= READ_BY_SETTINGS
    assert _table_names("| `DEBUG` | `true` | x |\n| `A_B` / `C_D` | y | z |") == {"DEBUG", "A_B", "C_D"}


def test_readme_configuration_table_lists_exactly_what_settings_read():
    documented = _table_names(_section(ROOT / "README.md", "## Configuration"))
    assert documented - READ_BY_SETTINGS == set(), "documented in README but never read by settings.py"
    assert READ_BY_SETTINGS - documented == set(), "read by settings.py but missing from README's table"


def test_deployment_guide_names_only_variables_that_settings_read():
    documented = _table_names(_section(ROOT / "docs" / "deployment.md", "## What must be set"))
    assert len(documented) >= 10
    assert documented - READ_BY_SETTINGS == set(), "documented in docs/deployment.md but never read by settings.py"


def test_env_example_shows_every_variable_and_no_inline_comments():
    names, inline = set(), []
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = EXAMPLE_LINE.match(line)
        if match:
            names.add(match.group(1))
            if re.search(r"\s#", match.group(2)):
                inline.append(line)
    assert not inline, f"a comment after a value becomes part of the value: {inline}"
    assert names == READ_BY_SETTINGS


def test_env_example_copied_to_dot_env_starts_with_the_values_it_shows(tmp_path):
    dot_env = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", dot_env)
    code = ("import json; from django.conf import settings as s; db = s.DATABASES['default'];"
            "print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, db['NAME'], db['USER'], db['PORT'],"
            "db['CONN_MAX_AGE'], db['OPTIONS']['pool']['max_size'], s.NUM_PROXIES, s.DEFAULT_FROM_EMAIL,"
            "s.LOGGING['loggers']['django.channels.server']['level'], str(s.STATIC_ROOT), s.LIVE_HISTORY_SIZE]))")
    result = _run(code, {"ENV_FILE": str(dot_env)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False, ["academy.example.org"], ["https://academy.example.org"], "academy", "academy", 5432, 0, 10, 1,
        "联动学堂 <noreply@academy.example.org>", "WARNING", "/srv/academy/staticfiles", 2000,
    ]
    check = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120, env={**{k: v for k, v in os.environ.items() if k not in READ_BY_SETTINGS},
                                             "ENV_FILE": str(dot_env)})
    assert check.returncode == 0, check.stdout + check.stderr


def test_postgresql_connections_come_from_a_bounded_pool_in_production():
    code = "import json; from django.conf import settings as s; print(json.dumps(s.DATABASES['default']))"
    url = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "CONN_MAX_AGE": "300"}
    production = json.loads(_run(code, {**PROD, **url, "DATABASE_POOL_SIZE": "7"}).stdout)
    assert production["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 7, "timeout": 30.0}
    assert production["CONN_MAX_AGE"] == 0  # Django refuses persistent connections together with a pool
    unpooled = json.loads(_run(code, {**PROD, **url, "DATABASE_POOL_SIZE": "0"}).stdout)
    assert "pool" not in unpooled.get("OPTIONS", {})
    assert unpooled["CONN_MAX_AGE"] == 300
    development = json.loads(_run(code, {"DEBUG": "true", **url}).stdout)
    assert "pool" not in development.get("OPTIONS", {})
