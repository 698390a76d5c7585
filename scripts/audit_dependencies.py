"""Known vulnerabilities in the pinned dependencies (pip-audit against PyPI's vulnerability data).

    .venv/bin/python scripts/audit_dependencies.py        (make audit; .ci/run)

Audits requirements-test.txt, the whole pinned tree (runtime and test), without installing anything
(`--disable-pip --no-deps`: the file pins every package with hashes). Exits 1 when any pinned version has a known
vulnerability, listing them with the versions that fix them. pip-audit asks PyPI's per-version JSON API
(/pypi/<name>/<version>/json); where that does not answer, pip-audit skips the package, and this script says loudly
how many it could not audit (all of them: NOT AUDITED) rather than reporting a pass it did not make.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    command = [str(Path(sys.executable).with_name("pip-audit")), "--disable-pip", "--no-deps", "--progress-spinner",
               "off", "--format", "json", "-r", str(ROOT / "requirements-test.txt")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return 1
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        print(f"pip-audit: {len(vulnerable)} of {len(dependencies)} pinned packages have known vulnerabilities: "
              "move their pins (make upgrade-deps, or raise the range in requirements.in) and run the tests")
        return 1
    if skipped and not audited:
        print(f"pip-audit: NOT AUDITED: PyPI's vulnerability data did not answer for any of the {len(skipped)} "
              f"pinned packages ({skipped[0]['skip_reason']})")
        return 0
    if skipped:
        print("pip-audit: could not audit " + ", ".join(f"{d['name']} {d['version']}" for d in skipped))
    print(f"pip-audit: no known vulnerability in {audited} audited pinned packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
