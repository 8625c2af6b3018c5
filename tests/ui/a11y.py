"""Accessibility checks for the browser tests: axe-core (bundled by axe-playwright-python, no
download at run time) and keyboard helpers.

`check_page(page, name)` fails on any serious or critical violation and records the others, which
`write_report()` lists in test-artifacts/ui/a11y.md at the end of the session.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

from ingest_app.core.settings import PROJECT_ROOT

BLOCKING = {"serious", "critical"}
REPORT = PROJECT_ROOT / "test-artifacts" / "ui" / "a11y.md"
_AXE = Axe()
# name of the screen -> [(rule id, impact, nodes, help)]
FINDINGS: dict[str, list[tuple[str, str, int, str]]] = {}


# Finite animations still running (a dialog fading out is half transparent: axe would measure the
# contrast of a frame nobody reads); endless ones (spinners) are not waited for.
_ANIMATING = """() => document.getAnimations().filter(a => a.playState === 'running'
    && a.effect && Number.isFinite(a.effect.getComputedTiming().endTime)).length === 0"""


def check_page(page, name: str) -> None:
    """axe-core on the whole page once its transitions have ended (WCAG 2.x A/AA rules and best
    practices)."""
    page.wait_for_function(_ANIMATING, timeout=10_000)
    results = _AXE.run(page, options={"resultTypes": ["violations"]})
    violations = results.response["violations"]
    FINDINGS[name] = [(v["id"], v.get("impact") or "", len(v["nodes"]), v["help"]) for v in violations]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    assert not blocking, f"{name}: serious/critical accessibility violations:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(
            f"{node['target']}: {(node.get('any') or node.get('all') or [{}])[0].get('message', '')}"
            for node in v["nodes"][:5]
        )
        for v in blocking
    )


def write_report() -> None:
    if not FINDINGS:
        return
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# axe-core findings (none serious or critical)", ""]
    for name, found in sorted(FINDINGS.items()):
        lines.append(
            f"- {name}: " + ("none" if not found else ", ".join(f"{r} ({i}, {n} nodes)" for r, i, n, _ in found))
        )
    REPORT.write_text("\n".join(lines) + "\n")


def focused(page) -> dict:
    """What has the keyboard focus, and whether the focus can be seen (an outline or a ring)."""
    return page.evaluate(
        """() => {
        const el = document.activeElement;
        // Nothing focused (the focus is on <body>): the same keys, so every predicate can read them.
        if (!el || el === document.body) {
            return {id: "", tag: "BODY", text: "", role: "", visible: false, inDialog: false};
        }
        // The ring may be drawn by the control's wrapper (Radix text fields: :focus-within),
        let visible = false;
        // Or by a pseudo-element (Radix switches: ::before).
        for (let node = el, depth = 0; node && depth < 3 && !visible; node = node.parentElement, depth++) {
            for (const pseudo of [null, "::before", "::after"]) {
                const style = getComputedStyle(node, pseudo);
                const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
                const ring = style.boxShadow && style.boxShadow !== "none";
                visible = visible || outline || ring;
            }
        }
        return {
            id: el.id, tag: el.tagName, text: (el.innerText || el.value || "").trim().slice(0, 60),
            role: el.getAttribute("role") || "", visible,
            inDialog: !!el.closest('[role="dialog"], [role="alertdialog"]'),
        };
    }"""
    )


def tab_until(page, predicate, limit: int = 40, key: str = "Tab") -> dict:
    """Press Tab until `predicate(focused(page))` holds; the focus must be visible at every stop."""
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        assert now["tag"] == "BODY" or now["visible"], f"focus is not visible on {now}"
        if predicate(now):
            return now
    raise AssertionError(f"not reached with {limit} x {key}")
