"""docs/architecture.md stays true: the import contracts in .importlinter hold, and each one can fail."""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"
PRODUCT = ["academy", "handbook", "courses", "live", "volunteers"]


def lint_imports(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as cli; sys.exit(cli())",
         "--no-cache", str(config)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )


def test_the_import_contracts_are_kept():
    result = lint_imports(CONFIG)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    kept = re.search(r"Contracts: (\d+) kept, 0 broken\.", result.stdout)
    assert kept and int(kept.group(1)) >= 4  # apps, academy-floors, courses-certificates, channel-layer


def _swap_academy_floors(text: str) -> str:
    """The academy floors contract with its base floor above its top floor."""
    lines = text.splitlines(keepends=True)
    top = next(i for i, line in enumerate(lines) if line.startswith("    settings : urls"))
    assert lines[top + 1].startswith("    accounts : ")
    lines[top], lines[top + 1] = lines[top + 1], lines[top]
    return "".join(lines)


@pytest.mark.parametrize("change, contract", [
    # handbook placed above courses: courses.completion's import of handbook.selectors now points upwards.
    (lambda text: text.replace("    courses\n    handbook\n", "    handbook\n    courses\n"), "Apps import downwards only"),
    # live.events' own import of the channel layer, no longer excused, breaks the contract.
    (lambda text: text.replace("    live.events -> channels.layers\n", ""), "Only live.events sends to the channel layer"),
    # academy's base floor placed above its top floor: the top floor's imports of accounts and search point upwards.
    (_swap_academy_floors, "Every module of academy/ is on a floor"),
], ids=["apps", "channel-layer", "academy-floors"])
def test_a_broken_contract_is_caught(tmp_path, change, contract):
    text = CONFIG.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text
    config = tmp_path / ".importlinter"
    config.write_text(changed, encoding="utf-8")
    result = lint_imports(config)
    assert result.returncode != 0 and re.search(r"Contracts: \d+ kept, 1 broken\.", result.stdout)
    assert contract in result.stdout.split("Broken contracts", 1)[1]


def test_a_new_academy_module_must_be_placed_on_a_floor(tmp_path):
    text = CONFIG.read_text(encoding="utf-8").replace(" : sections : ", " : ")
    config = tmp_path / ".importlinter"
    config.write_text(text, encoding="utf-8")
    result = lint_imports(config)
    assert result.returncode != 0 and "academy.sections" in result.stdout


def _attribute_uses(name: str) -> set[str]:
    """Product modules (relative paths) that use the attribute `name` (e.g. `layer.group_send`)."""
    found = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if any(isinstance(node, ast.Attribute) and node.attr == name for node in ast.walk(tree)):
                found.add(str(path.relative_to(ROOT)))
    return found


def test_only_live_events_sends_to_room_groups():
    """What the import contract cannot see: a consumer's own `self.channel_layer`. Nothing but live/events.py
    sends to a group; only the hub joins one."""
    assert _attribute_uses("group_send") == {"live/events.py"}
    assert _attribute_uses("group_add") == {"live/hub.py"}
