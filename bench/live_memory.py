"""Where a live-room server's memory goes: a census a Daphne worker writes on SIGUSR1 (bench/live_load.py --tracemalloc).

    python -m bench.live_memory --worker [academy.serve worker arguments]

Runs `academy.serve`'s worker (Daphne as production runs it) with tracemalloc started before anything else is
imported (BENCH_TRACEMALLOC_FRAMES frames, 1 by default) and a SIGUSR1 handler that writes, to
BENCH_MEMORY_DIR/<pid>-<n>.json:
- `rss`: the process's resident set;
- `kinds`: per object kind (`module.Class`), how many and their shallow size (sys.getsizeof), for every object the
  garbage collector knows (frozen ones included) and the strings, bytes and numbers they hold;
- `held`: the same sizes for the containers, strings and bytes, grouped by the kind of the first object seen to
  hold them (`builtins.dict in daphne.ws_protocol.WebSocketProtocol`: that protocol's instance dictionaries);
- `files`: tracemalloc's live allocations grouped by the file (and, for our own modules, the line) that made them.
bench/live_load.py takes one census before and one after the joins and prints the difference per participant
(`diff_table`). A measuring aid only: tracemalloc makes the server slower and larger, so RSS per participant is
measured without it.
"""
from __future__ import annotations

import os
import tracemalloc

if __name__ == "__main__":  # before Django, Twisted and the application are imported
    tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "1")))

import collections  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HELD = (dict, list, tuple, set, collections.deque, str, bytes)
PLAIN = {str, bytes, int, float}
OURS = ("live/", "academy/", "courses/", "handbook/")


def _rss() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _kind(obj) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def census() -> dict:
    """Object kinds and tracemalloc's allocations of this process, now."""
    gc.collect()
    gc.unfreeze()  # frozen objects are not in gc.get_objects(); academy.serve freezes again on its next check
    try:
        objects = gc.get_objects()
        kinds: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        held: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
        seen = set()
        for obj in objects:
            entry = kinds[_kind(obj)]
            entry[0] += 1
            entry[1] += sys.getsizeof(obj, 0)
            owner = None
            for ref in gc.get_referents(obj):
                if id(ref) in seen:
                    continue
                cls = type(ref)  # never isinstance(): it asks lazy objects for __class__, which sets them up
                plain = cls in PLAIN
                if plain and gc.is_tracked(ref):
                    continue
                if plain or issubclass(cls, HELD):
                    seen.add(id(ref))
                    size = sys.getsizeof(ref, 0)
                    if plain:
                        entry = kinds[_kind(ref)]
                        entry[0] += 1
                        entry[1] += size
                    if owner is None:
                        owner = _kind(obj)
                    entry = held[f"{_kind(ref)} in {owner}"]
                    entry[0] += 1
                    entry[1] += size
        del objects, seen
    finally:
        gc.freeze()
    files: dict[str, int] = collections.Counter()
    if tracemalloc.is_tracing():
        for stat in tracemalloc.take_snapshot().statistics("lineno"):
            frame = stat.traceback[0]
            name = frame.filename
            if name.startswith(str(ROOT) + "/"):
                name = name[len(str(ROOT)) + 1:]
                if name.startswith(OURS):
                    name = f"{name}:{frame.lineno}"
            else:
                for marker in ("site-packages/", "lib/python3"):
                    if marker in name:
                        name = name.split(marker, 1)[1]
                        break
            files[name] += stat.size
    return {"rss": _rss(), "kinds": dict(kinds), "held": dict(held), "files": dict(files)}


def _on_signal(signum, frame):
    directory = Path(os.environ.get("BENCH_MEMORY_DIR", "."))
    count = len(list(directory.glob(f"{os.getpid()}-*.json")))
    path = directory / f"{os.getpid()}-{count}.json"
    try:
        data = census()
    except Exception as error:  # noqa: BLE001 - a measuring aid must not take the server down
        data = {"error": repr(error), "rss": _rss(), "kinds": {}, "held": {}, "files": {}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.rename(path)


def diff_table(before: dict, after: dict, participants: int, top: int = 30) -> str:
    """The census difference per participant: object kinds (count, bytes) and allocating files (bytes)."""
    lines = [f"RSS: {(after['rss'] - before['rss']) / 1024 / participants:.2f} KB per participant "
             f"(with tracemalloc's own overhead)"]
    rows = []
    for kind, (count, size) in after["kinds"].items():
        count0, size0 = before["kinds"].get(kind, (0, 0))
        rows.append((size - size0, count - count0, kind))
    rows.sort(reverse=True)
    total = sum(r[0] for r in rows)
    lines.append(f"object kinds (shallow sizes), {total / 1024 / participants:.2f} KB per participant in all:")
    lines.append(f"{'KB/participant':>15} {'objects/participant':>20}  kind")
    for size, count, kind in rows[:top]:
        lines.append(f"{size / 1024 / participants:15.3f} {count / participants:20.2f}  {kind}")
    rows = []
    for kind, (count, size) in after["held"].items():
        count0, size0 = before["held"].get(kind, (0, 0))
        rows.append((size - size0, count - count0, kind))
    rows.sort(reverse=True)
    lines.append("containers, strings and bytes by the kind of object holding them:")
    for size, count, kind in rows[:top]:
        lines.append(f"{size / 1024 / participants:15.3f} {count / participants:20.2f}  {kind}")
    rows = sorted(((size - before["files"].get(name, 0), name) for name, size in after["files"].items()),
                  reverse=True)
    total = sum(r[0] for r in rows)
    lines.append(f"tracemalloc, live allocations by file, {total / 1024 / participants:.2f} KB per participant "
                 f"in all:")
    for size, name in rows[:top]:
        lines.append(f"{size / 1024 / participants:15.3f}  {name}")
    return "\n".join(lines)


def merge(censuses: list[dict]) -> dict:
    """Several processes' censuses as one."""
    merged = {"rss": 0, "kinds": collections.defaultdict(lambda: [0, 0]), "held": collections.defaultdict(lambda: [0, 0]),
              "files": collections.Counter()}
    for one in censuses:
        merged["rss"] += one["rss"]
        for kind, (count, size) in one["kinds"].items():
            merged["kinds"][kind][0] += count
            merged["kinds"][kind][1] += size
        for kind, (count, size) in one["held"].items():
            merged["held"][kind][0] += count
            merged["held"][kind][1] += size
        merged["files"].update(one["files"])
    return merged


def main(argv: list[str]) -> None:
    if argv[:1] != ["--worker"]:
        raise SystemExit(__doc__)
    sys.path.insert(0, str(ROOT))
    signal.signal(signal.SIGUSR1, _on_signal)
    from academy.serve import run_worker

    run_worker(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
