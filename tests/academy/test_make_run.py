"""What `make run` tells a newcomer: the demo password itself when it is the default; the Makefile's promises."""
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_load_demo_prints_the_default_password_and_never_a_chosen_one(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "changeme"
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "password: changeme" in out.getvalue()
    assert "demo-volunteer" in out.getvalue()
    settings.DEMO_PASSWORD = "a-secret-Chosen-by-the-operator"
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "a-secret-Chosen-by-the-operator" not in out.getvalue()
    assert "password: the value of DEMO_PASSWORD" in out.getvalue()


def test_make_run_does_not_recompile_the_committed_catalogues():
    # `make run` must leave `git status` clean: compilemessages rewrites every .mo file (another msgfmt, another
    # byte layout) although tests/academy/test_chinese_text.py already checks the committed ones match their .po.
    makefile = (ROOT / "Makefile").read_text()
    install = re.search(r"^install:(.*)$", makefile, re.M).group(1)
    assert "messages" not in install
    assert re.search(r"^run: install migrate demo serve$", makefile, re.M)
    assert re.search(r"^PORT +\?= 8000$", makefile, re.M)
