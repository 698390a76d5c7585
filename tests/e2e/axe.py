"""axe-core in the browser tests: inject the vendored axe.min.js into a Playwright page and list the serious and
critical violations. The browser context must bypass the site's CSP (`bypass_csp=True`): the script is injected
inline, which the site's policy (rightly) refuses."""
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""


def axe_violations(page, impacts=BLOCKING) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(RUN) if v["impact"] in impacts]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"  {v['impact']}: {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in violations)
