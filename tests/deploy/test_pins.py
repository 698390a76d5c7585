"""Every dependency is pinned, and the live room's fast paths engage with exactly the pinned versions.

live/transport.py and academy/serve.py reach into Daphne's, Twisted's and autobahn's internals and engage only on
the versions they were written for; they silently fall back otherwise. These tests make an upgrade of any of them
(or of txaio and asgiref, which carry those internals' async calls) a decision: `make upgrade-deps` that moves one
fails here until the code has been checked against the new version and its version recorded.
"""
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from academy import serve
from live import transport

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)
FAST_PATH_PACKAGES = ["daphne", "twisted", "autobahn", "txaio", "asgiref"]


def _pins(name: str) -> dict[str, str]:
    return {re.sub(r"[-_.]+", "-", n).lower(): v for n, v in PIN.findall((ROOT / name).read_text(encoding="utf-8"))}


def test_every_requirement_line_is_an_exact_pin_with_hashes():
    for name in ("requirements.txt", "requirements-test.txt"):
        text = (ROOT / name).read_text(encoding="utf-8")
        requirements = [line for line in text.splitlines() if line and line[0].isalnum()]
        assert requirements, name
        loose = [line for line in requirements if not PIN.match(line)]
        assert not loose, f"{name}: not pinned: {loose}"
        assert text.count("--hash=sha256:") >= len(requirements), f"{name}: every pin carries its hashes"


def test_runtime_and_test_requirements_agree():
    runtime, test = _pins("requirements.txt"), _pins("requirements-test.txt")
    assert {name: test.get(name) for name in runtime} == runtime


def test_fast_path_packages_are_pinned_and_installed_at_those_versions():
    pins = _pins("requirements.txt")
    assert {name: pins.get(name) for name in FAST_PATH_PACKAGES} == {name: version(name) for name in FAST_PATH_PACKAGES}


def test_the_pinned_versions_are_the_ones_the_fast_paths_were_written_for():
    pins = _pins("requirements.txt")
    assert {name: pins.get(name) for name in transport.PINNED} == transport.PINNED
    assert pins["daphne"] == serve.DAPHNE_VERSION


def test_live_transport_engages_with_the_installed_versions():
    code = "import django; django.setup(); from live import transport; print(transport.install())"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"DJANGO_SETTINGS_MODULE": "academy.settings", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True", result.stderr  # False: "live.transport not engaged" (see its warning)


def test_academy_serve_uses_its_tuned_daphne_server_with_the_installed_version():
    from daphne.server import Server

    tuned = serve.tuned_server_class()
    assert tuned is not Server and issubclass(tuned, Server)
