"""`make serve`: Daphne for development, announcing the site's address only once it accepts connections.

    .venv/bin/python scripts/dev_serve.py HOST PORT
"""
import socket
import subprocess
import sys
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def listening(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def main(host: str, port: int) -> int:
    if listening(host, port):
        print(f"Port {port} on {host} is taken by another program: choose another one, e.g. make run PORT={port + 1}")
        return 1
    server = subprocess.Popen([str(VENV_BIN / "daphne"), "-b", host, "-p", str(port), "academy.asgi:application"])
    try:
        deadline = time.monotonic() + 120
        while server.poll() is None and time.monotonic() < deadline:
            if listening(host, port):
                print(f"\n==> Linkage Academy is ready: http://{host}:{port}/   (admin: http://{host}:{port}/admin/,"
                      " stop with Ctrl+C)\n", flush=True)
                break
            time.sleep(0.3)
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=20)
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
