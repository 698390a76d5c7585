"""deploy/: the nginx site nginx accepts once its values are filled in, and units and cron lines that name real
commands. The whole set is exercised end to end by the production rehearsal (deploy/rehearsal.py, CI's third leg)."""
import importlib.util
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
spec = importlib.util.spec_from_file_location("rehearsal", DEPLOY / "rehearsal.py")
rehearsal = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rehearsal)

VALUES = {"SERVER_NAME": "academy.example.org", "HTTPS_LISTEN": "127.0.0.1:8443 ssl http2",
          "HTTP_LISTEN": "127.0.0.1:8080", "UPSTREAM": "127.0.0.1:8000", "STATIC_ROOT": "/srv/academy/staticfiles",
          "MEDIA_ROOT": "/srv/academy/media"}


def _site(tmp_path: Path) -> str:
    cert, key = rehearsal.self_signed_certificate(tmp_path)
    return rehearsal.render_site({**VALUES, "TLS_CERTIFICATE": str(cert), "TLS_CERTIFICATE_KEY": str(key)})


def test_every_value_to_fill_in_is_listed_in_the_site_files_header(tmp_path):
    text = (DEPLOY / "nginx-site.conf").read_text()
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    used = set(re.findall(r"__([A-Z_]+)__", text.replace(header, "")))
    assert used == set(re.findall(r"#\s+__([A-Z_]+)__", header))
    assert used == set(VALUES) | {"TLS_CERTIFICATE", "TLS_CERTIFICATE_KEY"}


def test_a_value_left_unfilled_is_refused():
    with pytest.raises(ValueError, match="TLS_CERTIFICATE"):
        rehearsal.render_site(VALUES)


def test_nginx_accepts_the_rendered_site(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "Debian's nginx is needed (apt-get install nginx)"
    site = tmp_path / "site.conf"
    site.write_text(_site(tmp_path))
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "nginx" / kind).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(rehearsal.main_config(tmp_path, site, as_root=False))
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_several_hosts_render_one_upstream_server_line_each_and_nginx_accepts_them(tmp_path):
    cert, key = rehearsal.self_signed_certificate(tmp_path)
    hosts = ["127.0.0.11:8000", "127.0.0.12:8000", "127.0.0.13:8000"]
    text = rehearsal.render_site({**VALUES, "UPSTREAM": hosts, "TLS_CERTIFICATE": str(cert),
                                  "TLS_CERTIFICATE_KEY": str(key)})
    upstream = text[text.index("upstream academy_app"):]
    upstream = upstream[:upstream.index("}")]
    assert re.findall(r"server (\S+) max_fails", upstream) == hosts
    assert "least_conn;" in upstream
    site = tmp_path / "site.conf"
    site.write_text(text)
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "nginx" / kind).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(rehearsal.main_config(tmp_path, site, as_root=False, worker_connections=60000,
                                          rlimit_nofile=121024, worker_processes=7))
    assert "worker_connections 60000;" in conf.read_text() and "worker_rlimit_nofile 121024;" in conf.read_text()
    assert "worker_processes 7;" in conf.read_text()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_an_empty_list_of_upstream_hosts_is_refused():
    with pytest.raises(ValueError, match="UPSTREAM"):
        rehearsal.render_site({**VALUES, "UPSTREAM": [], "TLS_CERTIFICATE": "c", "TLS_CERTIFICATE_KEY": "k"})


def test_site_serves_documents_as_attachments_and_static_files_for_a_year(tmp_path):
    site = _site(tmp_path)
    documents = site[site.index("location /media/documents/"):]
    assert "Content-Disposition attachment" in documents[:documents.index("}")]
    assert "X-Content-Type-Options nosniff" in documents[:documents.index("}")]
    assert "max-age=31536000, immutable" in site
    assert "proxy_set_header Upgrade $http_upgrade" in site


def _manage_calls():
    """(file, command, arguments) for every `manage.py <command> …` in the units and the crontab."""
    for path in sorted(DEPLOY.iterdir()):
        if path.suffix in {".service", ""} and path.name != "__pycache__":
            for line in path.read_text().splitlines():
                if "manage.py" in line and not line.lstrip().startswith("#"):
                    words = shlex.split(line[line.index("manage.py"):])
                    yield path.name, words[1], words[2:]


def test_units_and_cron_lines_run_commands_that_exist_with_options_they_accept():
    calls = list(_manage_calls())
    assert {command for _, command, _ in calls} >= {"send_live_reminders", "live_sweep_attendance", "volunteers_retention"}
    commands = get_commands()
    for name, command, arguments in calls:
        assert command in commands, f"{name}: no management command {command}"
        load_command_class(commands[command], command).create_parser("manage.py", command).parse_args(arguments)


def test_timers_exist_for_every_scheduled_service():
    services = {p.stem for p in DEPLOY.glob("academy-*.service")}
    assert services == {p.stem for p in DEPLOY.glob("academy-*.timer")} == {"academy-live-reminders",
                                                                            "academy-live-sweep",
                                                                            "academy-volunteers-retention"}
    unit = (DEPLOY / "academy.service").read_text()
    assert re.search(r"^ExecStart=\S+/python -m academy\.serve --processes \d+ .*--proxy-headers", unit, re.M)


def test_deployment_guide_refers_to_the_files_instead_of_repeating_them():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    for name in ("deploy/nginx-site.conf", "deploy/academy.service", "deploy/crontab", "make prod-rehearsal"):
        assert name in guide
    assert "```nginx" not in guide and "```ini" not in guide
