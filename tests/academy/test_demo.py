"""The demo site is product code: `load_demo` runs with tests/ (and factory_boy) hidden from the import system."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from academy.demo import DEMO_STEPS, DEMO_USERS, demo_steps
from tests.servers import database_url

ROOT = Path(__file__).resolve().parents[2]

# Runs manage.py with an import hook that refuses the test package and factory_boy, whoever asks for them.
HIDDEN_TESTS = """
import sys

class Hidden:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"tests", "factory"}:
            raise ModuleNotFoundError(f"{name} is hidden: product code must not import it", name=name)
        return None

sys.meta_path.insert(0, Hidden())
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[1:]])
"""


def run_hidden(*args: str, code: str = HIDDEN_TESTS, media_root=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "academy.settings"}
    if media_root is not None:
        env["MEDIA_ROOT"] = str(media_root)
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_every_app_has_its_demo_step_in_product_code():
    steps = dict(demo_steps())
    assert {"academy", "handbook", "live", "courses", "courses.certificates"} <= set(steps)
    assert not [name for name in DEMO_STEPS if name.startswith("tests")]
    assert all(callable(step) for step in steps.values())


@pytest.mark.django_db(transaction=True)
def test_load_demo_builds_the_whole_demo_with_tests_hidden(settings):
    from courses.certificates.models import Certificate
    from handbook.models import ChapterPage
    from live.models import LiveSessionPage, Question

    result = run_hidden("load_demo", "--force", "-v", "2", media_root=settings.MEDIA_ROOT)  # the test's own media
    assert result.returncode == 0, result.stderr[-3000:]
    for label in ("[academy]", "[handbook]", "[live]", "[courses]", "[courses.certificates]"):
        assert label in result.stdout
    from academy.accounts.models import User

    assert User.objects.filter(username__in=DEMO_USERS).count() == len(DEMO_USERS)
    assert ChapterPage.objects.live().count() >= 10
    assert LiveSessionPage.objects.count() >= 2 and Question.objects.exists()
    assert Certificate.objects.filter(holder__username="demo-volunteer", course_title="志愿者上岗培训").exists()
    assert list(Path(settings.MEDIA_ROOT).rglob("*.mp4"))  # the demo video went to the test's media


def test_the_hook_really_hides_the_test_package():
    refused = run_hidden(code=HIDDEN_TESTS.replace("from django.core.management", "import tests.factories\nfrom django.core.management"))
    assert refused.returncode != 0 and "tests is hidden" in refused.stderr
    refused = run_hidden(code=HIDDEN_TESTS.replace("from django.core.management", "import factory\nfrom django.core.management"))
    assert refused.returncode != 0 and "factory is hidden" in refused.stderr
