"""Production rehearsal: what a new operator does, on this machine, checked through a real nginx.

    make prod-rehearsal          (= .venv/bin/python deploy/rehearsal.py [--participants N] [--pool N])

Needs PostgreSQL and Redis (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres: the rehearsal creates
a database of its own on that server and drops it at the end; REDIS_URL, default redis://127.0.0.1:6379/0) and
Debian's nginx (installed with apt-get when missing and running as root). It then:
1. writes a .env as README.md says (DEBUG off, a generated SECRET_KEY, PostgreSQL, Redis, files in a temporary
   folder) and uses nothing else: variables of the calling shell that settings read are not passed on;
2. runs migrate, collectstatic, certificate_keys generate and load_demo --force;
3. starts `python -m academy.serve --processes 2` and nginx with deploy/nginx-site.conf, rendered with the values
   (HTTPS with a self-signed certificate on a free loopback port, plain HTTP on another);
4. checks through nginx every public page type, a real log-in, the live room's WebSocket (its snapshot), static
   files and their cache headers, /media/ headers, no asset from another host, and a burst of signed-in
   participants opening the room page at once (no 5xx; PostgreSQL connections stay within processes x pool).
Prints each check, ends with one verdict line, exits 1 when a check failed, and stops all it started.
"""
from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SITE_TEMPLATE = ROOT / "deploy" / "nginx-site.conf"
PROCESSES = 2
DEFAULT_PARTICIPANTS = 500
BURST_PATIENCE = 150  # seconds a participant keeps the busy page open, following its Retry-After
READ = re.compile(r"""\benv(?:\.[a-z_]+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")
# Assets are what a page loads by itself (not links people follow).
ASSET = re.compile(r"""<(?:script|link|img|iframe|video|audio|source|embed)\b[^>]*?\s(?:src|href|srcset)\s*=\s*["']([^"']+)""",
                   re.I)
HASHED_CSS = re.compile(r'href="(/static/academy/css/site\.[0-9a-f]{12}\.css)"')
HASHED_JS = re.compile(r'src="(/static/[^"]+\.[0-9a-f]{12}\.js)"')


def wait_or_kill(process: subprocess.Popen, seconds: float) -> None:
    """Waits for a process that leads its own process group; SIGKILLs the group when it has not ended in time."""
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)


class ScratchDatabase:
    """A PostgreSQL database of its own for one run, on DATABASE_URL's server (the production rehearsal's and
    bench/live_hosts.py's): created empty, dropped at the end even while connections remain."""

    def __init__(self, prefix: str):
        base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
        self.parts = urlsplit(base)
        if not self.parts.scheme.startswith("postgres"):
            raise ValueError(f"DATABASE_URL must name a PostgreSQL server: the run creates its database there "
                             f"(got {self.parts.scheme}://)")
        self.maintenance_url = urlunsplit(self.parts._replace(scheme="postgresql", path="/postgres"))
        self.name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
        self.created = False

    def _connect(self):
        import psycopg

        return psycopg.connect(self.maintenance_url, autocommit=True, connect_timeout=5)

    def create(self) -> str:
        """Creates the database; its DATABASE_URL."""
        with self._connect() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True
        return urlunsplit(self.parts._replace(path=f"/{self.name}"))

    def max_connections(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SHOW max_connections").fetchone()[0])

    def connections(self) -> int:
        """Connections to the database now."""
        with self._connect() as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                (self.name,)).fetchone()[0]

    def drop(self) -> str | None:
        """Drops the database (once); what went wrong, for the caller to report, or None."""
        if not self.created:
            return None
        self.created = False
        try:
            with self._connect() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except Exception as exc:  # noqa: BLE001 - reported by the caller, never hiding its verdict
            return f"could not drop database {self.name}: {exc}"
        return None


def settings_variables() -> set[str]:
    return set(READ.findall((ROOT / "academy" / "settings.py").read_text(encoding="utf-8")))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_site(values: dict[str, str | list[str]]) -> str:
    """deploy/nginx-site.conf with its __PLACEHOLDERS__ filled in; refuses to leave one unfilled. A list value
    repeats the line that holds its placeholder once per item (`server __UPSTREAM__;`: one line per host)."""
    text = SITE_TEMPLATE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    for name, value in values.items():
        key = f"__{name}__"
        if isinstance(value, str):
            lines = [line.replace(key, value) for line in lines]
        elif not value:
            raise ValueError(f"nginx-site.conf: an empty list for {name}")
        else:
            lines = [line.replace(key, item) for line in lines for item in (value if key in line else [key])]
    body = "\n".join(lines)
    left = sorted(set(re.findall(r"__[A-Z_]+__", body)))
    if left:
        raise ValueError(f"nginx-site.conf: no value for {', '.join(left)}")
    return body


def main_config(tmp: Path, site: Path, *, as_root: bool, worker_connections: int = 4096,
                rlimit_nofile: int | None = None, worker_processes: int = 2) -> str:
    """nginx.conf's main part around the site. Large live sessions need `worker_connections` (two per WebSocket:
    client and upstream) and `rlimit_nofile` (descriptors per worker) above what the rehearsal's burst needs, or
    more `worker_processes` where a worker may not raise its descriptor limit."""
    temp = tmp / "nginx"
    return "\n".join([
        "user www-data;" if as_root else "",
        f"worker_processes {worker_processes};",
        f"worker_rlimit_nofile {rlimit_nofile};" if rlimit_nofile else "",
        f"pid {tmp / 'nginx.pid'};",
        f"error_log {tmp / 'nginx-error.log'} warn;",
        f"events {{ worker_connections {worker_connections}; }}",
        "http {",
        "    include /etc/nginx/mime.types;",
        "    default_type application/octet-stream;",
        "    sendfile on;",
        "    server_tokens off;",
        f"    access_log {tmp / 'nginx-access.log'};",
        *(f"    {kind}_temp_path {temp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
        f"    include {site};",
        "}",
        "",
    ])


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# --- a small HTTPS client (the server's certificate is self-signed) -------------------------------------------

TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Browser:
    """Keeps cookies; sends requests the way a browser on https://127.0.0.1:<port> would."""

    def __init__(self, port: int):
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 60) -> Response:
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=TLS, timeout=timeout)
        sent = {"Host": f"127.0.0.1:{self.port}", "User-Agent": "academy-rehearsal", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Response(answer.status, answer.headers, data, time.perf_counter() - started)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)


def websocket_first_message(port: int, path: str, cookies: dict[str, str], timeout: float = 20) -> dict:
    """Open wss://127.0.0.1:<port><path> through nginx and return the first text message, parsed."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock = TLS.wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: https://127.0.0.1:{port}\r\n"
                   f"Cookie: {'; '.join(f'{k}={v}' for k, v in cookies.items())}\r\n\r\n")
        sock.sendall(request.encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            buffer += chunk
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.split(b"\r\n")[0].decode(errors="replace"))

        def need(n: int) -> bytes:
            nonlocal buffer
            while len(buffer) < n:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed before a message arrived")
                buffer += chunk
            taken, buffer = buffer[:n], buffer[n:]
            return taken

        while True:
            first, second = need(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", need(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", need(8))[0]
            payload = need(length)
            opcode = first & 0x0F
            if opcode == 1:
                sock.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")  # a masked close frame, code 1000
                return json.loads(payload)
            if opcode == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                raise ConnectionError(f"closed by the server with code {code}")
    finally:
        sock.close()


# --- the rehearsal ----------------------------------------------------------------------------------------------

class Failed(Exception):
    pass


class Rehearsal:
    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.tmp = Path(tempfile.mkdtemp(prefix="academy-rehearsal-"))
        self.tmp.chmod(0o755)  # nginx's workers (www-data) read the collected static and media files
        self.private = self.tmp / "private"
        self.private.mkdir(mode=0o700)
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.results: list[tuple[str, bool]] = []
        self.database: ScratchDatabase | None = None
        self.env: dict[str, str] = {}

    # output
    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f}s] {text}", flush=True)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, bool(ok)))
        print(f"  {'ok  ' if ok else 'FAIL'}  {name}{f'  ({detail})' if detail else ''}", flush=True)
        return bool(ok)

    # processes
    def manage(self, *command: str, log: str | None = None, timeout: float = 300) -> None:
        out = open(self.tmp / log, "w") if log else subprocess.DEVNULL
        try:
            result = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, stdout=out,
                                    stderr=subprocess.PIPE, text=True, timeout=timeout)
        finally:
            if log:
                out.close()
        if result.returncode != 0:
            raise Failed(f"manage.py {' '.join(command)} failed:\n{result.stderr[-2000:]}")

    def start(self, name: str, argv: list[str], log: str) -> subprocess.Popen:
        out = open(self.tmp / log, "w")
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append((name, process))
        return process

    def stop_all(self) -> None:
        for name, process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for _name, process in reversed(self.processes):
            wait_or_kill(process, 15)
        self.processes.clear()

    # services
    def ensure_nginx(self) -> str:
        found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if found:
            return found
        if os.geteuid() != 0:
            raise Failed("nginx is not installed: run 'sudo apt-get install nginx' (or run the rehearsal as root)")
        self.say("installing Debian's nginx (apt-get install nginx) ...")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
        subprocess.run(["apt-get", "update", "-qq"], check=True, **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, **quiet)
        # Debian starts the packaged site on port 80 when systemd runs; the rehearsal uses its own configuration.
        return shutil.which("nginx") or "/usr/sbin/nginx"

    def create_database(self) -> str:
        try:
            self.database = ScratchDatabase("academy_rehearsal")
        except ValueError as exc:
            raise Failed(str(exc)) from None
        url = self.database.create()
        self.say(f"PostgreSQL: database {self.database.name} created "
                 f"(max_connections {self.database.max_connections()})")
        return url

    def drop_database(self) -> None:
        problem = self.database.drop() if self.database else None
        if problem:
            print(f"warning: {problem}", flush=True)

    def connections_now(self) -> int:
        return self.database.connections()

    def wait_http(self, port: int, path: str, *, tls: bool, seconds: float, process: subprocess.Popen) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise Failed(f"{process.args[0]} exited with {process.returncode} before it answered")
            try:
                factory = http.client.HTTPSConnection if tls else http.client.HTTPConnection
                kwargs = {"context": TLS} if tls else {}
                connection = factory("127.0.0.1", port, timeout=5, **kwargs)
                connection.request("GET", path, headers={"Host": "127.0.0.1"})
                status = connection.getresponse().status
                connection.close()
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise Failed(f"nothing answered on 127.0.0.1:{port}{path} within {seconds:.0f} s")

    # the steps
    def prepare(self) -> None:
        import redis

        nginx = self.ensure_nginx()
        version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr.strip()
        self.say(f"{version} ({nginx})")
        redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
        database_url = self.create_database()
        self.https_port, self.http_port, self.upstream_port = free_port(), free_port(), free_port()
        origin = f"https://127.0.0.1:{self.https_port}"
        self.demo_password = secrets.token_urlsafe(12)
        values = {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": origin,
            "SITE_URL": origin,
            "NUM_PROXIES": "1",
            "DATABASE_URL": database_url,
            "DATABASE_POOL_SIZE": str(self.args.pool),
            # Used only without the pool (--pool 0), as README recommends for that case.
            "CONN_MAX_AGE": "300",
            "REDIS_URL": redis_url,
            "CHANNEL_LAYER_PREFIX": f"rehearsal{os.getpid()}",
            "STATIC_ROOT": str(self.tmp / "staticfiles"),
            "MEDIA_ROOT": str(self.tmp / "media"),
            "SERVE_FILES": "false",
            "DEMO_PASSWORD": self.demo_password,
            "CERTIFICATE_SIGNING_KEY_FILE": str(self.private / "signing.pem"),
            # No mail server on this machine: e-mails are printed into the server's log.
            "EMAIL_URL": "consolemail://",
            "ACCESS_LOG_LEVEL": "WARNING",
        }
        env_file = self.private / ".env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
        inherited = {k: v for k, v in os.environ.items() if k not in settings_variables()}
        self.env = {**inherited, "ENV_FILE": str(env_file), "DJANGO_SETTINGS_MODULE": "academy.settings",
                    "PYTHONUNBUFFERED": "1"}
        self.say(f"settings: {env_file} (DEBUG off, generated SECRET_KEY, PostgreSQL, Redis, "
                 f"DATABASE_POOL_SIZE={self.args.pool})")

    def install_release(self) -> None:
        for label, command, log in [
            ("migrate", ["migrate", "--no-input", "-v", "0"], None),
            ("collectstatic", ["collectstatic", "--no-input", "-v", "0"], None),
            ("certificate_keys generate", ["certificate_keys", "generate", "--output",
                                           str(self.private / "signing.pem")], "certificate-keys.log"),
            ("load_demo --force", ["load_demo", "--force"], "load-demo.log"),
        ]:
            began = time.monotonic()
            self.manage(*command, log=log, timeout=600)
            self.say(f"manage.py {label}: done in {time.monotonic() - began:.1f} s")
        # A document and a plain upload, for nginx's /media/ headers.
        documents = self.tmp / "media" / "documents"
        documents.mkdir(parents=True, exist_ok=True)
        (documents / "rehearsal.txt").write_text("<script>alert(1)</script>\n")
        (self.tmp / "media" / "rehearsal.txt").write_text("<html><script>alert(1)</script></html>\n")
        for path in (self.tmp / "staticfiles", self.tmp / "media"):
            subprocess.run(["chmod", "-R", "a+rX", str(path)], check=True)

    def start_servers(self) -> None:
        serve = self.start("academy.serve", [sys.executable, "-m", "academy.serve", "--processes", str(PROCESSES),
                                             "-b", "127.0.0.1", "-p", str(self.upstream_port), "--proxy-headers",
                                             "-v", "0"], "serve.log")
        self.wait_http(self.upstream_port, "/healthz", tls=False, seconds=90, process=serve)
        self.say(f"academy.serve: {PROCESSES} Daphne processes on 127.0.0.1:{self.upstream_port}")
        cert, key = self_signed_certificate(self.private)
        site = self.tmp / "academy-site.conf"
        site.write_text(render_site({
            "SERVER_NAME": "127.0.0.1", "HTTPS_LISTEN": f"127.0.0.1:{self.https_port} ssl http2",
            "HTTP_LISTEN": f"127.0.0.1:{self.http_port}", "TLS_CERTIFICATE": str(cert),
            "TLS_CERTIFICATE_KEY": str(key), "UPSTREAM": f"127.0.0.1:{self.upstream_port}",
            "STATIC_ROOT": str(self.tmp / "staticfiles"), "MEDIA_ROOT": str(self.tmp / "media"),
        }))
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.tmp / "nginx" / kind).mkdir(parents=True, exist_ok=True)
        conf = self.tmp / "nginx.conf"
        conf.write_text(main_config(self.tmp, site, as_root=os.geteuid() == 0))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        test = subprocess.run([nginx, "-t", "-q", "-p", str(self.tmp), "-e", str(self.tmp / "nginx-error.log"),
                               "-c", str(conf)], capture_output=True, text=True)
        if test.returncode != 0:
            raise Failed(f"nginx -t refused deploy/nginx-site.conf as rendered:\n{test.stderr}")
        process = self.start("nginx", [nginx, "-p", str(self.tmp), "-e", str(self.tmp / "nginx-error.log"),
                                       "-c", str(conf), "-g", "daemon off;"], "nginx.log")
        self.wait_http(self.https_port, "/healthz", tls=True, seconds=20, process=process)
        self.say(f"nginx: https://127.0.0.1:{self.https_port}/ (deploy/nginx-site.conf), "
                 f"http://127.0.0.1:{self.http_port}/ redirects")

    def django(self):
        """This process's own Django, on the same .env, for what only the database knows (page addresses)."""
        for name in settings_variables():
            os.environ.pop(name, None)
        os.environ.update({"ENV_FILE": self.env["ENV_FILE"], "DJANGO_SETTINGS_MODULE": "academy.settings"})
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()

    def addresses(self) -> dict[str, str]:
        from courses.certificates.models import Certificate
        from courses.models import CourseIndexPage, CoursePage, LessonPage
        from handbook.models import ChapterPage, HandbookPage
        from live.models import LiveIndexPage, LiveSessionPage

        session = (LiveSessionPage.objects.live().filter(slug="community-linkage-live-class").first()
                   or LiveSessionPage.objects.live().order_by("-start").first())
        certificate = Certificate.objects.first()
        found = {
            "home": "/",
            "handbook index": HandbookPage.objects.live().first().url,
            "handbook chapter": ChapterPage.objects.live().first().url,
            "search": "/search/?q=%E7%A4%BE%E5%8C%BA",
            "course list": CourseIndexPage.objects.live().first().url,
            "course": CoursePage.objects.live().first().url,
            "lesson": LessonPage.objects.live().first().url,
            "live list": LiveIndexPage.objects.live().first().url,
            "session page": session.url,
            "room page": session.url + "room/",
            "certificate verification": f"/certificates/verify/{certificate.code if certificate else 'none'}/",
            "log-in": "/accounts/login/",
            "sign-up": "/accounts/signup/",
            "admin log-in": "/admin/login/",
        }
        self.session = session
        return found

    def check_pages(self, pages: dict[str, str]) -> None:
        self.say("public pages through nginx (anonymous)")
        browser = Browser(self.https_port)
        foreign = []
        for name, path in pages.items():
            answer = browser.get(path)
            self.check(f"{name}: {path}", answer.status < 500, f"{answer.status}, {answer.seconds * 1000:.0f} ms")
            if answer.headers.get_content_type() == "text/html":
                for url in ASSET.findall(answer.text):
                    host = urlsplit(url.strip()).netloc
                    if host and host != f"127.0.0.1:{self.https_port}":
                        foreign.append(f"{path}: {url}")
        self.check("no asset from another host", not foreign, "; ".join(foreign[:3]) or f"{len(pages)} pages")
        home = browser.get("/")
        self.home_html = home.text
        self.check("HSTS on HTTPS answers", "max-age=" in (home.headers.get("Strict-Transport-Security") or ""),
                   home.headers.get("Strict-Transport-Security") or "missing")
        health = browser.get("/healthz")
        self.check("/healthz through nginx", health.status == 200 and json.loads(health.body)["status"] == "ok",
                   health.text.strip())
        plain = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        plain.request("GET", "/courses/", headers={"Host": f"127.0.0.1:{self.http_port}"})
        redirect = plain.getresponse()
        plain.close()
        self.check("plain HTTP redirects to HTTPS", redirect.status == 301
                   and (redirect.getheader("Location") or "").startswith("https://"),
                   f"{redirect.status} {redirect.getheader('Location')}")

    def check_static_and_media(self) -> None:
        self.say("static files and uploads from nginx")
        browser = Browser(self.https_port)
        css = HASHED_CSS.search(self.home_html)
        if not self.check("pages link hashed static names (ManifestStaticFilesStorage)", css,
                          css.group(1) if css else "no hashed site.css in the home page"):
            return
        answer = browser.get(css.group(1), headers={"Accept-Encoding": "gzip"})
        cache = answer.headers.get("Cache-Control") or ""
        self.check("hashed CSS: 200, cached for a year, immutable", answer.status == 200 and "max-age=31536000" in cache
                   and "immutable" in cache, f"{answer.status}, Cache-Control: {cache}")
        self.check("static CSS gzip-compressed", answer.headers.get("Content-Encoding") == "gzip",
                   f"Content-Encoding: {answer.headers.get('Content-Encoding')}")
        room = Browser(self.https_port)
        room.cookies = dict(self.signed_in.cookies)
        script = HASHED_JS.search(room.get(self.pages["room page"]).text)
        if script:
            js = browser.get(script.group(1), headers={"Accept-Encoding": "gzip"})
            self.check("hashed JS: 200, immutable, gzip", js.status == 200
                       and "immutable" in (js.headers.get("Cache-Control") or "")
                       and js.headers.get("Content-Encoding") == "gzip", f"{script.group(1)}: {js.status}")
        else:
            self.check("room page links a hashed script", False, "no hashed /static/…js in the room page")
        icon = browser.get("/favicon.ico")
        self.check("favicon.ico from nginx", icon.status == 200 and icon.body[:4] == b"\x00\x00\x01\x00",
                   f"{icon.status}, {icon.headers.get('Content-Type')}, {len(icon.body)} bytes")
        document = browser.get("/media/documents/rehearsal.txt")
        self.check("/media/documents/: attachment, nosniff, CSP default-src 'none'",
                   document.status == 200 and document.headers.get("Content-Disposition") == "attachment"
                   and document.headers.get("X-Content-Type-Options") == "nosniff"
                   and "default-src 'none'" in (document.headers.get("Content-Security-Policy") or ""),
                   f"{document.status}, Content-Disposition: {document.headers.get('Content-Disposition')}")
        upload = browser.get("/media/rehearsal.txt")
        self.check("/media/: nosniff and a sandboxing CSP", upload.status == 200
                   and upload.headers.get("X-Content-Type-Options") == "nosniff"
                   and "sandbox" in (upload.headers.get("Content-Security-Policy") or ""),
                   f"{upload.status}, X-Content-Type-Options: {upload.headers.get('X-Content-Type-Options')}")

    def check_login_and_room(self) -> None:
        self.say("a real log-in, the room page and its WebSocket through nginx")
        browser = Browser(self.https_port)
        form = browser.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        body = (f"csrfmiddlewaretoken={token.group(1) if token else ''}&username=demo-socialworker"
                f"&password={self.demo_password}").encode()
        answer = browser.request("POST", "/accounts/login/", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Origin": browser.origin,
            "Referer": browser.origin + "/accounts/login/"})
        self.check("log-in as demo-socialworker", answer.status == 302 and "sessionid" in browser.cookies,
                   f"{answer.status} -> {answer.headers.get('Location')}")
        self.signed_in = browser
        room = browser.get(self.pages["room page"])
        self.check("room page, signed in", room.status == 200, f"{room.status}, {room.seconds * 1000:.0f} ms")
        try:
            message = websocket_first_message(self.https_port, f"/ws/live/{self.session.pk}/", browser.cookies)
            self.check("room WebSocket through nginx: first message is the snapshot",
                       message.get("type") == "snapshot", f"type {message.get('type')!r}, {len(json.dumps(message))} bytes")
        except (OSError, ValueError) as exc:
            self.check("room WebSocket through nginx: first message is the snapshot", False, str(exc))

    def burst(self) -> None:
        n = self.args.participants
        self.say(f"burst: {n} signed-in participants open the room page at once")
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
        from django.contrib.sessions.backends.db import SessionStore
        from django.contrib.sessions.models import Session
        from django.db import connections
        from django.utils import timezone

        from academy.accounts.backends import SESSION_BACKEND

        from live.models import Registration

        User = get_user_model()
        tag = secrets.token_hex(3)
        User.objects.bulk_create([User(username=f"burst-{tag}-{i}", password="!", real_name=f"参与者{i}")
                                  for i in range(n)])
        users = list(User.objects.filter(username__startswith=f"burst-{tag}-"))
        Registration.objects.bulk_create([Registration(session=self.session, user=u) for u in users])
        store = SessionStore()
        expiry = timezone.now() + datetime.timedelta(hours=1)
        keys = [secrets.token_hex(16) for _ in users]
        Session.objects.bulk_create([
            Session(session_key=key, expire_date=expiry, session_data=store.encode({
                SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: SESSION_BACKEND,
                HASH_SESSION_KEY: user.get_session_auth_hash()}))
            for key, user in zip(keys, users)])
        connections.close_all()
        for connection in connections.all():
            if getattr(connection, "pool", None):
                connection.close_pool()  # this process holds no connection during the burst

        peak = [self.connections_now()]
        done = threading.Event()

        def watch():
            while not done.is_set():
                try:
                    peak.append(self.connections_now())
                except Exception:
                    pass
                done.wait(0.1)

        results: list[tuple[int, float]] = []
        lock = threading.Lock()
        gate = threading.Barrier(n)
        path = self.pages["room page"]

        busy = [0]

        def participant(key: str):
            """Opens the room page as a phone's browser does: the busy page (a 503 with Retry-After, academy/gate.py,
            over LIVE_PAGES_IN_FLIGHT) is loaded again after the time it gives; any other 5xx is a failure."""
            browser = Browser(self.https_port)
            browser.cookies = {"sessionid": key}
            try:
                gate.wait(timeout=60)
                started = time.perf_counter()
                deadline = started + BURST_PATIENCE
                while True:
                    answer = browser.get(path, timeout=120)
                    retry_after = answer.headers.get("Retry-After") if answer.status == 503 else None
                    if not (retry_after and retry_after.isdigit() and time.perf_counter() < deadline):
                        break
                    with lock:
                        busy[0] += 1
                    time.sleep(int(retry_after))
                outcome = (answer.status, time.perf_counter() - started)
            except Exception as exc:  # a refused or dropped connection counts as a failure
                outcome = (0, 0.0)
                print(f"    participant error: {type(exc).__name__}: {exc}", flush=True)
            with lock:
                results.append(outcome)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        began = time.monotonic()
        threads = [threading.Thread(target=participant, args=(key,), daemon=True) for key in keys]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        took = time.monotonic() - began
        done.set()
        watcher.join(timeout=5)
        statuses: dict[int, int] = {}
        for status, _ in results:
            statuses[status] = statuses.get(status, 0) + 1
        times = sorted(seconds for status, seconds in results if status == 200)
        p50 = times[len(times) // 2] if times else 0
        p95 = times[int(len(times) * 0.95) - 1] if times else 0
        self.check(f"burst: {n} room pages, no 5xx and no failed connection (busy pages followed)",
                   len(results) == n and statuses.get(200, 0) == n,
                   f"statuses {dict(sorted(statuses.items()))}, {busy[0]} busy pages followed, {took:.1f} s in all, "
                   f"time to the room p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
        bound = PROCESSES * self.args.pool
        if not self.args.pool:  # a measurement without the pool (--pool 0): nothing to hold the peak against
            self.say(f"burst without a pool: peak {max(peak)} connections to the rehearsal database")
            return
        self.check(f"burst: PostgreSQL connections within processes x pool ({PROCESSES} x {self.args.pool})",
                   max(peak) <= bound, f"peak {max(peak)} connections to the rehearsal database")

    def server_errors_logged(self) -> None:
        log = (self.tmp / "serve.log").read_text(encoding="utf-8", errors="replace")
        errors = [line for line in log.splitlines() if "Traceback" in line or " ERROR " in line
                  or line.startswith("ERROR")]
        self.check("no error in the servers' log", not errors, errors[0][:200] if errors else "serve.log clean")

    def run(self) -> int:
        try:
            self.prepare()
            self.install_release()
            self.start_servers()
            self.django()
            self.pages = self.addresses()
            self.check_pages(self.pages)
            self.check_login_and_room()
            self.check_static_and_media()
            self.burst()
            self.server_errors_logged()
        except Failed as exc:
            self.check("rehearsal step", False, str(exc))
        except Exception as exc:  # a crash of the rehearsal itself is a failed rehearsal, with its reason
            import traceback

            traceback.print_exc()
            self.check("rehearsal ran to the end", False, f"{type(exc).__name__}: {exc}")
        finally:
            signal.alarm(0)
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, signal.SIG_IGN)  # cleaning up is not interrupted
            self.stop_all()
            self.drop_database()
            if self.args.keep:
                print(f"kept {self.tmp} (logs, rendered configuration)")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        failed = [name for name, ok in self.results if not ok]
        took = time.monotonic() - self.started
        if failed:
            print(f"PRODUCTION REHEARSAL FAILED: {len(failed)} of {len(self.results)} checks failed "
                  f"({'; '.join(failed)}) in {took:.0f} s", flush=True)
            return 1
        print(f"PRODUCTION REHEARSAL PASSED: {len(self.results)} checks in {took:.0f} s", flush=True)
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=DEFAULT_PARTICIPANTS,
                        help=f"signed-in participants in the burst (default {DEFAULT_PARTICIPANTS})")
    parser.add_argument("--pool", type=int, default=10,
                        help="DATABASE_POOL_SIZE for each process (default 10; 0 measures without a pool)")
    parser.add_argument("--timeout", type=int, default=600, help="stop everything after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, configuration)")
    args = parser.parse_args(argv)
    rehearsal = Rehearsal(args)

    def interrupted(signum, frame):
        raise Failed(f"stopped by signal {signum}" if signum != signal.SIGALRM else f"took over {args.timeout} s")

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, interrupted)
    signal.alarm(args.timeout)
    return rehearsal.run()


if __name__ == "__main__":
    sys.exit(main())
