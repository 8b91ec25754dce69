"""The operator dashboard (/llm/dashboard) through real Envoy, opened in headless
Chromium: refused without an admin key, logs in with Basic credentials (password = key),
self-contained (no external URL), and shows the same numbers as /v1/usage."""

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser

import pytest

from fleet_harness import Redis, Store
from harness import LOGS, Envoy, Mock, http

ADMIN, APP, OTHER = "sk-dash-admin", "sk-dash-app", "sk-dash-other"


def sha(k):
    return hashlib.sha256(k.encode()).hexdigest()


@pytest.fixture(scope="module")
def dash():
    mock, failing = Mock("dashboard"), Mock("dashboard-failing")
    failing.default_fault({"status": 503})
    cfg = {
        "providers": [{"name": "p", "kind": "openai", "cluster": "c"},
                      {"name": "q", "kind": "openai", "cluster": "d"}],
        "models": [{"name": "m", "targets": [{"provider": "p", "model": "up"}], "rpm": 1000, "tpm": 1_000_000},
                   {"name": "n", "targets": [{"provider": "p", "model": "up2"}]},
                   {"name": "broken", "targets": [{"provider": "q", "model": "down"}]}],
        "health": {"failure_threshold": 2, "cooldown_ms": 600_000},
        "prices": [{"model": "up", "input": 2000, "output": 8000},
                   {"model": "up2", "input": 0, "output": 0}, {"model": "down", "input": 0, "output": 0}],
        "access": {"teams": [{"name": "web", "budget_usd": 100, "budget_period": "month"}],
                   "keys": [{"name": "admin", "sha256": sha(ADMIN), "admin": True},
                            {"name": "app", "sha256": sha(APP), "team": "web", "rpm": 100, "tpm": 100000,
                             "budget_usd": 50, "budget_period": "day"},
                            {"name": "other", "sha256": sha(OTHER)}]},
    }
    e = Envoy({"c": mock, "d": failing}, plugin_config=cfg, name="dashboard", concurrency=1)
    yield e
    e.stop()
    mock.stop()
    failing.stop()


def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is not installed (./build.sh test installs it as root)")
    return exe


def browse(url, *extra):
    """Headless Chromium on `url`; stdout (the DOM with --dump-dom)."""
    with tempfile.TemporaryDirectory(prefix="dash-chromium-") as profile:
        p = subprocess.run(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
             *extra, url],
            capture_output=True, timeout=90)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-2000:]
    return p.stdout.decode()


def logged_in(e):
    return e.base.replace("http://", f"http://admin:{ADMIN}@") + "/llm/dashboard"


class Cells(HTMLParser):
    """(table id, row data-name, data-field) -> text; plus every src/href."""

    def __init__(self):
        super().__init__()
        self.table = self.row = self.field = None
        self.cells, self.links, self.body = {}, [], {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "body":
            self.body = a
        if tag == "table":
            self.table = a.get("id")
        elif tag == "tr":
            self.row = a.get("data-name")
        elif tag == "td" and "data-field" in a:
            self.field = a["data-field"]
            self.cells[(self.table, self.row, self.field)] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self.field = None

    def handle_data(self, data):
        if self.field:
            self.cells[(self.table, self.row, self.field)] += data


def parse(html):
    c = Cells()
    c.feed(html)
    return c


def usage(e, path="/v1/usage"):
    status, _, body = http("GET", e.base + path, headers={"authorization": f"Bearer {ADMIN}"})
    assert status == 200, body
    return json.loads(body)


def state(e):
    return usage(e, "/llm/state")


def chat(e, key, model, expect=200):
    status, _, body = http("POST", e.base + "/v1/chat/completions",
                           json.dumps({"model": model, "messages": [{"role": "user", "content": "hi there"}]}).encode(),
                           {"authorization": f"Bearer {key}", "content-type": "application/json"})
    assert status == expect, body


def test_refused_without_an_admin_key(dash):
    status, headers, body = http("GET", dash.base + "/llm/dashboard")
    assert status == 401, body
    assert json.loads(body)["error"]["type"]
    assert {k.lower(): v for k, v in headers.items()}["www-authenticate"].startswith("Basic")
    status, _, body = http("GET", dash.base + "/llm/dashboard", headers={"authorization": f"Bearer {APP}"})
    assert status == 403 and "admin" in json.loads(body)["error"]["message"]
    for path in ("/llm/state", "/llm/usage"):
        assert http("GET", dash.base + path)[0] == 401
    # A browser without the login gets the refusal, not the page.
    assert "<table" not in browse(dash.base + "/llm/dashboard", "--dump-dom")


def test_the_page_references_no_external_url(dash):
    status, headers, body = http("GET", dash.base + "/llm/dashboard", headers={"authorization": f"Bearer {ADMIN}"})
    assert status == 200
    html = body.decode()
    headers = {k.lower(): v for k, v in headers.items()}
    assert "text/html" in headers["content-type"]
    # and the browser is told to load nothing from elsewhere (the page below still works under it)
    assert "default-src 'none'" in headers["content-security-policy"]
    refs = re.findall(r"""(?:src|href|url)\s*[=(]\s*["']?([^"')\s>]+)""", html, re.I)
    assert not [r for r in refs if "//" in r], refs
    assert "<script src" not in html and "<link" not in html and "@import" not in html


def test_the_page_shows_what_v1_usage_says(dash):
    for key, model in [(APP, "m"), (APP, "m"), (APP, "n"), (OTHER, "m")]:
        chat(dash, key, model)
    for _ in range(2):  # the failure threshold: "broken"'s only target cools down
        chat(dash, OTHER, "broken", expect=503)
    # The ledger is written by the worker; wait until the four requests are in it.
    deadline = time.monotonic() + 15
    while usage(dash)["models"]["m"]["day"]["requests"] < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    before = usage(dash)
    assert before["keys"]["app"]["day"]["requests"] == 3

    shot = LOGS / "dashboard.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    browse(logged_in(dash), f"--screenshot={shot}", "--window-size=1280,1200")
    assert shot.stat().st_size > 10_000
    print(f"dashboard screenshot: {shot}")

    page = parse(browse(logged_in(dash), "--dump-dom"))
    after = usage(dash)
    assert before == after, "usage changed meanwhile"
    assert page.body.get("data-loaded") == "ok", page.body
    assert page.links == []
    for table in ("keys", "teams", "models"):
        for name, entry in after[table].items():
            for period in ("day", "month"):
                line = entry[period]
                cell = lambda f: page.cells[(table, name, f"{period}.{f}")]
                assert cell("requests") == str(line["requests"]), (table, name)
                assert cell("errors") == str(line["errors"]), (table, name)
                assert cell("tokens") == str(line["prompt_tokens"] + line["completion_tokens"]), (table, name)
                assert cell("cost_usd") == f"${line['cost_usd']:.4f}", (table, name)
    assert page.cells[("keys", "app", "day.requests")] == "3"
    assert page.cells[("teams", "web", "month.requests")] == "3"
    assert page.cells[("models", "broken", "day.errors")] == "2"
    assert float(page.cells[("models", "m", "day.cost_usd")][1:]) > 0

    # Targets' health and the key's rate limit with this minute's use.
    assert page.cells[("targets", "m/p/up", "available")] == "up"
    assert page.cells[("targets", "n/p/up2", "consecutive_failures")] == "0"
    assert page.cells[("targets", "broken/q/down", "available")] == "cooling down"
    assert page.cells[("targets", "broken/q/down", "consecutive_failures")] == "2"
    assert 0 < int(page.cells[("targets", "broken/q/down", "cooldown_remaining_s")]) <= 600
    assert page.cells[("limits", "app", "rpm")] == "100"
    assert page.cells[("limits", "app", "tpm")] == "100000"
    assert int(page.cells[("limits", "app", "requests")]) in (0, 3)  # 0 if a minute turned


def limits_and_budgets(page, st, source):
    """The page's model limits and budgets equal /llm/state's (`st`)."""
    assert st["model_limits"], st
    for l in st["model_limits"]:
        cell = lambda f: page.cells[("model-limits", l["model"], f)]
        assert cell("requests") == str(l["requests"]) and cell("tokens") == str(l["tokens"]), l
        assert cell("rpm") == str(l["rpm"]) and cell("tpm") == str(l["tpm"]), l
        assert l["source"] == source and cell("source") == ("fleet" if source == "fleet" else "this Envoy")
    assert st["budgets"], st
    for b in st["budgets"]:
        cell = lambda f: page.cells[("budgets", f"{b['scope']}:{b['name']}", f)]
        assert cell("period") == b["period"], b
        for f in ("spent_usd", "limit_usd", "remaining_usd"):
            assert cell(f) == f"${b[f]:.4f}", (b, f)
        assert b["source"] == source


def fresh_minute():
    """Wait (at most 12 s) out a minute about to turn, so that a few requests share one
    rate window."""
    left = 60 - time.time() % 60
    if left < 12:
        time.sleep(left + 0.5)


def settled_page(e, model, requests):
    """The page and /llm/state read within one minute window (retried if a minute turned),
    once the window of `model` holds `requests`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        before = state(e)
        row = next(l for l in before["model_limits"] if l["model"] == model)
        if row["requests"] < requests:
            time.sleep(0.2)
            continue
        page = parse(browse(logged_in(e), "--dump-dom"))
        after = state(e)
        # (targets' cool-downs count down meanwhile)
        strip = lambda s: {k: s[k] for k in ("limits", "model_limits", "budgets")}
        if strip(before) == strip(after):
            assert page.body.get("data-loaded") == "ok", page.body
            return page, after
    pytest.fail(f"/llm/state never settled with {requests} requests on {model}")


def test_the_page_shows_model_limits_and_budgets_as_llm_state_says(dash):
    fresh_minute()
    for _ in range(2):
        chat(dash, APP, "m")
    page, st = settled_page(dash, "m", 2)
    limits_and_budgets(page, st, "local")
    m = next(l for l in st["model_limits"] if l["model"] == "m")
    assert (m["rpm"], m["tpm"]) == (1000, 1_000_000) and m["tokens"] >= 2 * m["requests"]
    assert [l["model"] for l in st["model_limits"]] == ["m"], "only models with a limit"
    # The budgets' spend is /v1/usage's cost for the same name and period.
    u = usage(dash)
    budgets = {(b["scope"], b["name"]): b for b in st["budgets"]}
    assert set(budgets) == {("key", "app"), ("team", "web")}
    assert budgets[("key", "app")]["spent_usd"] == u["keys"]["app"]["day"]["cost_usd"] > 0
    assert budgets[("team", "web")]["spent_usd"] == u["teams"]["web"]["month"]["cost_usd"] > 0
    for b in budgets.values():
        assert b["remaining_usd"] == pytest.approx(b["limit_usd"] - b["spent_usd"])
    assert page.cells[("budgets", "key:app", "limit_usd")] == "$50.0000"


FLEET_CFG = {
    "providers": [{"name": "p", "kind": "openai", "cluster": "c"}],
    "models": [{"name": "m", "targets": [{"provider": "p", "model": "up"}], "rpm": 1000, "tpm": 1_000_000}],
    "prices": [{"model": "up", "input": 2000, "output": 8000}],
    "access": {"teams": [{"name": "web", "budget_usd": 100, "budget_period": "month"}],
               "keys": [{"name": "admin", "sha256": sha(ADMIN), "admin": True},
                        {"name": "app", "sha256": sha(APP), "team": "web", "rpm": 100,
                         "budget_usd": 50, "budget_period": "day"}]},
    "fleet": {"cluster": "llm_store", "timeout_ms": 1000, "flush_ms": 50},
}


@pytest.fixture(scope="module")
def fleet_dash():
    redis = Redis()
    store = Store(redis)
    mock = Mock("dashboard-fleet")
    a = Envoy({"c": mock, "llm_store": store}, plugin_config=FLEET_CFG, name="dash-fleet-a", concurrency=1)
    b = Envoy({"c": mock, "llm_store": store}, plugin_config=FLEET_CFG, name="dash-fleet-b", concurrency=1)
    yield a, b
    for p in (a, b, mock, store, redis):
        p.stop()


def test_fleet_mode_the_page_shows_the_fleets_figures(fleet_dash):
    a, b = fleet_dash
    fresh_minute()
    for _ in range(3):
        chat(a, APP, "m")
    # Envoy b served nothing: what its page shows is the fleet's (the store's).
    page, st = settled_page(b, "m", 3)
    limits_and_budgets(page, st, "fleet")
    key = next(l for l in st["limits"] if l["key"] == "app")
    assert key["source"] == "fleet" and key["requests"] >= 3
    assert page.cells[("limits", "app", "requests")] == str(key["requests"])
    # The spend reaches the store after the worker's flush: wait for it, then /llm/usage is
    # the fleet's /v1/usage on either Envoy, and the budgets' spend matches it.
    deadline = time.monotonic() + 15
    while usage(b)["keys"]["app"]["day"]["requests"] < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    u = usage(b)
    assert u["keys"]["app"]["day"]["requests"] == 3
    assert usage(b, "/llm/usage") == u == usage(a)
    st = state(b)
    spent = {(x["scope"], x["name"]): x["spent_usd"] for x in st["budgets"]}
    assert spent[("key", "app")] == u["keys"]["app"]["day"]["cost_usd"] > 0
    assert spent[("team", "web")] == u["teams"]["web"]["month"]["cost_usd"] > 0
