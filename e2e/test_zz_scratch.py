import pytest
from e2e.browser import AXE_JS, log_in, watch_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

def scan(page, label, out, tags):
    page.add_script_tag(path=str(AXE_JS))
    res = page.evaluate("""async (tags) => {const r = await axe.run(document, {runOnly: {type: "tag", values: tags}}); return r.violations.map(v => [v.id, v.impact, v.help, v.tags.join(','), v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary||'').replace(/\\s+/g,' ').slice(0,250))])}""", tags)
    out.append(f"## {label} {page.url}")
    for r in res:
        out.append(f"  {r[0]} {r[1]} {r[2]} [{r[3]}]")
        for n in r[4][:5]:
            out.append(f"     {n}")

def test_scan(page):
    tags = ["wcag2a","wcag2aa","wcag21a","wcag21aa","wcag22aa","best-practice"]
    out = []
    page.goto("/accounts/login/"); scan(page, "anon", out, tags)
    page.locator("main button[type=submit]").click(); page.wait_for_load_state(); scan(page, "login-empty", out, tags)
    log_in(page, "strategi")
    for path in ["/", "/strategies/", "/strategies/koncernstrategi-2025-2026/", "/strategies/koncernstrategi-2025-2026/elements/12/", "/agreements/?state=published", "/agreements/VOF-HEM/2026/", "/agreements/KSF-KOM/2026/", "/organisation/VOF/", "/strategies/koncernstrategi-2025-2026/history/"]:
        page.goto(path); scan(page, "strategi", out, tags)
    page.goto("/strategies/new/"); page.locator("main form button[type=submit]").click(); page.wait_for_load_state(); scan(page, "strategy-form-errors", out, tags)
    page.goto("/strategies/koncernstrategi-2025-2026/levels/")
    for i in range(4):
        if page.locator(f"#id_levels-{i}-name").count(): page.locator(f"#id_levels-{i}-name").fill("")
    page.locator("main form button[type=submit]").click(); page.wait_for_load_state(); scan(page, "levels-errors", out, tags)
    page.goto("/strategies/koncernstrategi-2025-2026/elements/new/"); page.locator("main form button[type=submit]").click(); page.wait_for_load_state(); scan(page, "element-errors", out, tags)
    page.goto("/agreements/VOF-HEM-NOR/2026/initiatives/new/"); page.locator("main form button[type=submit]").click(); page.wait_for_load_state(); scan(page, "initiative-errors", out, tags)
    log_in(page, "forvaltningschef")
    page.goto("/agreements/VOF-HEM/2026/"); scan(page, "agree-view", out, tags)
    page.locator("form[action$='/return/'] button").click(); page.wait_for_load_state(); scan(page, "return-empty", out, tags)
    # versions
    from pejling.agreements.models import AgreementVersion
    v = AgreementVersion.objects.select_related("agreement__unit").first()
    if v:
        page.goto(f"/agreements/{v.agreement.unit.code}/{v.agreement.year}/versions/{v.number}/"); scan(page, "version", out, tags)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto("/"); scan(page, "mobile", out, tags)
    page.screenshot(path="/tmp/mobile.png", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/"); page.screenshot(path="/tmp/home.png", full_page=False)
    page.goto("/agreements/VOF-HEM/2026/"); page.screenshot(path="/tmp/agr.png", full_page=True)
    w = watch_of(page); w.checked.update(w.visited); w.failed_requests = [r for r in w.failed_requests if "404" not in r]
    open("/tmp/axe_scan.txt","w").write("\n".join(out))
