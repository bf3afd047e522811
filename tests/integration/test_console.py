"""The web console at /ui/ in a real browser (Debian's Chromium through Selenium): every page as
a new user would use it, and as an attacker would try it (script in names and values, framing,
cross-site requests, what the browser keeps)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.browser import Browser
from tests.canary import find_canaries, read_tree
from tests.helpers import StrongroomServer, free_port

ROOT = "console-root-token-canary-7f3a"
SCRIPT_NAME = 'x"><img src=x onerror="window.pwned=1">'
SCRIPT_VALUE = "<script>window.pwned=2</script>value-canary-9c1e"
PASSWORD = "console-password-canary-41d8"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrongroomServer]:
    server = StrongroomServer(tmp_path_factory.mktemp("console") / "data", ROOT).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(server: StrongroomServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {ROOT}"}
    with httpx.Client(base_url=server.addr + "/api/v1", headers=headers) as client:
        yield client


@pytest.fixture
def browser(server: StrongroomServer, tmp_path: Path) -> Iterator[Browser]:
    browser = Browser(server.addr, tmp_path / "profile")
    try:
        yield browser
    finally:
        browser.close()


def _not_pwned(browser: Browser) -> None:
    assert browser.script("return window.pwned === undefined")
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "main img")


# -- what the server sends


def test_the_console_is_served_with_strict_headers(server: StrongroomServer) -> None:
    with httpx.Client(base_url=server.addr) as client:
        assert client.get("/").headers["location"] == "/ui/"
        assert client.get("/ui").headers["location"] == "/ui/"
        for path, kind in (("/ui/", "text/html"), ("/ui/js/app.js", "text/javascript")):
            answer = client.get(path)
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith(kind)
            csp = answer.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp
            assert "script-src 'self'" in csp and "unsafe" not in csp
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["cache-control"] == "no-store"
        missing = client.get("/ui/../../etc/passwd")
        assert missing.status_code == 404
        assert client.get("/ui/js/nope.js").status_code == 404
        # No asset is fetched from anywhere else.
        page = client.get("/ui/").text
        assert "http://" not in page and "https://" not in page


def test_the_api_sets_no_cookie(server: StrongroomServer, api: httpx.Client) -> None:
    api.put("/auth/userpass/users/cookie", json={"password": PASSWORD}).raise_for_status()
    login = httpx.post(
        f"{server.addr}/api/v1/auth/userpass/login/cookie", json={"password": PASSWORD}
    )
    assert login.status_code == 200
    assert "set-cookie" not in login.headers
    assert "set-cookie" not in httpx.get(f"{server.addr}/ui/").headers


# -- a new user


def test_a_secret_from_creation_to_destruction(browser: Browser, api: httpx.Client) -> None:
    browser.login_token(ROOT)
    browser.wait_text("Namespaces")
    assert "secret" in browser.main_text()
    browser.go("browse", "secret", "")
    browser.wait_text("New secret here")

    browser.go("new", "secret", "console/")
    path = f"console/{SCRIPT_NAME}"
    browser.fill("#new-path", path)
    browser.fill(".field-name", "password")
    browser.fill(".field-value", SCRIPT_VALUE)
    browser.button("Create").click()
    browser.wait_text("Current version 1")
    _not_pwned(browser)
    # The name is shown as text; the value is not on the page until revealed.
    assert SCRIPT_NAME in browser.main_text()
    assert "value-canary" not in browser.driver.page_source
    assert "console" not in browser.driver.title and "value" not in browser.driver.title

    browser.button("Reveal").click()
    browser.wait_text(SCRIPT_VALUE)
    _not_pwned(browser)
    browser.button("Hide").click()
    browser.wait(lambda: "value-canary" not in browser.driver.page_source, what="hidden")

    # A second version, compared with the first, values hidden until asked for.
    browser.fill(".field-name", "password")
    browser.fill(".field-value", "second-value")
    browser.button("Save new version").click()
    browser.wait_text("New version saved")
    browser.wait_text("Current version 2")
    browser.button("Compare").click()
    browser.wait_text("changed")
    assert "second-value" not in browser.main_text()
    browser.button("Show values").click()
    browser.wait_text("second-value")
    _not_pwned(browser)

    # Labels, roll back, delete, undelete, destroy.
    browser.fill(".label-name", "prod")
    browser.button("Set label").click()
    browser.wait_text("Label prod set")
    assert api.get(f"/metadata/secret/{path}").json()["labels"]["prod"] == 2
    browser.button("Roll back to", browser.row("1")).click()
    browser.wait_text("Current version 3")
    assert api.get(f"/secrets/secret/{path}").json()["data"]["password"] == SCRIPT_VALUE
    browser.button("Delete", browser.row("2")).click()
    browser.wait(lambda: "deleted" in browser.row("2").text, what="v2 deleted")
    browser.button("Undelete", browser.row("2")).click()
    browser.wait(lambda: "live" in browser.row("2").text, what="v2 live again")
    destroy = browser.button("Destroy", browser.row("1"))
    destroy.click()
    browser.button("Confirm destroy", browser.row("1")).click()
    browser.wait(lambda: "destroyed" in browser.row("1").text, what="v1 destroyed")
    states = [v["state"] for v in api.get(f"/metadata/secret/{path}").json()["versions"]]
    assert states == ["destroyed", "live", "live"]

    # Search finds it; deleting it removes it.
    browser.go("search", "secret")
    browser.fill("#search-name", "onerror")
    browser.button("Search").click()
    browser.wait_text(SCRIPT_NAME)
    _not_pwned(browser)
    browser.driver.find_element(By.LINK_TEXT, path).click()
    browser.wait_text("Current version 3")
    browser.button("Delete secret").click()
    browser.button("Confirm delete secret").click()
    browser.wait_text("New secret here")
    assert api.get(f"/metadata/secret/{path}").status_code == 404


def test_a_stale_edit_is_refused_not_written_over(browser: Browser, api: httpx.Client) -> None:
    api.put("/secrets/secret/console/cas", json={"data": {"a": "1"}}).raise_for_status()
    browser.login_token(ROOT)
    browser.go("secret", "secret", "console/cas")
    browser.wait_text("Current version 1")
    api.put("/secrets/secret/console/cas", json={"data": {"a": "2"}}).raise_for_status()
    browser.fill(".field-name", "a")
    browser.fill(".field-value", "3")
    browser.button("Save new version").click()
    browser.wait(lambda: browser.driver.find_elements(By.CSS_SELECTOR, ".notice.error"))
    assert api.get("/secrets/secret/console/cas").json()["data"] == {"a": "2"}


def test_a_limited_user_sees_only_what_policy_allows(browser: Browser, api: httpx.Client) -> None:
    policy = 'path "secret/data/team/*" { capabilities = ["read", "create", "update"] }\n'
    policy += 'path "secret/metadata/team/*" { capabilities = ["read", "list"] }\n'
    api.put("/sys/policies/acl/console-team", json={"policy": policy}).raise_for_status()
    api.put(
        "/auth/userpass/users/dana",
        json={"password": PASSWORD, "token_policies": ["console-team"]},
    ).raise_for_status()
    api.put("/secrets/secret/team/app", json={"data": {"k": "team-value"}}).raise_for_status()
    api.put("/secrets/secret/other/app", json={"data": {"k": "other-canary"}}).raise_for_status()

    browser.login_password("dana", PASSWORD)
    browser.wait_text("No namespace you may list")  # no read on sys/mounts
    browser.fill("#goto-path", "secret/team/")
    browser.button("Open").click()
    browser.wait_text("app")
    browser.go("secret", "secret", "other/app")
    browser.wait(lambda: browser.driver.find_elements(By.CSS_SELECTOR, ".notice.error"))
    assert "other-canary" not in browser.driver.page_source
    browser.go("secret", "secret", "team/app")
    browser.wait_text("Current version 1")
    browser.button("Reveal").click()
    browser.wait_text("team-value")
    browser.go("policies")
    browser.wait(lambda: browser.driver.find_elements(By.CSS_SELECTOR, ".notice.error"))
    assert "permission denied" in browser.main_text()
    # Logging out revokes the token the console's login made.
    accessors_before = set(api.get("/auth/token/accessors").json()["keys"])
    browser.button("Log out").click()
    browser.wait(lambda: browser.driver.find_elements(By.ID, "login-token"), what="login")
    assert len(accessors_before - set(api.get("/auth/token/accessors").json()["keys"])) == 1


def test_policies_are_validated_and_checked(browser: Browser, api: httpx.Client) -> None:
    browser.login_token(ROOT)
    browser.go("policies")
    browser.fill("#new-policy-name", "console-made")
    browser.button("Create").click()
    browser.wait_text("A new policy")
    area = browser.css("#policy-text")
    area.clear()
    area.send_keys('path "secret/data/x" { capabilities = ["reed"] }')
    browser.button("Save").click()
    browser.wait(lambda: browser.driver.find_elements(By.CSS_SELECTOR, ".notice.error"))
    assert api.get("/sys/policies/acl/console-made").status_code == 404
    area.clear()
    area.send_keys('path "secret/data/x" { capabilities = ["read"] }')
    browser.button("Save").click()
    browser.wait_text("Saved")
    assert "read" in api.get("/sys/policies/acl/console-made").json()["data"]["policy"]

    made = api.post(
        "/auth/token/create", json={"policies": ["console-made"], "no_default_policy": True}
    ).json()["auth"]
    browser.fill("#cap-path", "secret/data/x")
    browser.fill("#cap-accessor", made["accessor"])
    browser.button("Check").click()
    browser.wait(lambda: "secret/data/x: read" in browser.main_text(), what="capabilities")
    browser.fill("#cap-accessor", "")
    browser.button("Check").click()
    browser.wait(lambda: "secret/data/x: root" in browser.main_text(), what="root")


def test_tokens_roles_users_and_aws_keys(browser: Browser, api: httpx.Client) -> None:
    browser.login_token(ROOT)
    browser.go("tokens")
    browser.wait_text("This token")
    browser.fill("input[name=policies]", "default")
    browser.fill("input[name=display_name]", "made-in-console")
    browser.button("Create token").click()
    browser.wait_text("Copy it now")
    accessor = browser.css(".secret-box tr:nth-child(2) code").text
    browser.button("Revoke", browser.row(accessor)).click()
    browser.button("Confirm revoke", browser.row(accessor)).click()
    browser.wait(lambda: accessor not in browser.main_text().split("Tokens by accessor")[1])
    assert accessor not in api.get("/auth/token/accessors").json()["keys"]

    browser.go("approle")
    browser.wait_text("Create or update a role")
    browser.fill("input[name=name]", "console-ci")
    browser.fill("input[name=token_policies]", "default")
    browser.button("Save role").click()
    browser.wait_text("Role ID")
    browser.button("Generate secret ID").click()
    browser.wait_text("Copy it now")
    assert api.get("/auth/approle/role/console-ci/secret-id").json()["keys"]
    browser.button("Delete role").click()
    browser.button("Confirm delete role").click()
    browser.wait(lambda: api.get("/auth/approle/role/console-ci").status_code == 404)

    browser.go("userpass")
    browser.wait_text("Create or update a user")
    browser.fill("input[name=name]", "erin")
    browser.fill("input[name=password]", PASSWORD)
    browser.button("Save user").click()
    browser.row("erin")
    browser.button("Delete", browser.row("erin")).click()
    browser.button("Confirm delete", browser.row("erin")).click()
    browser.wait(lambda: api.get("/auth/userpass/users/erin").status_code == 404)

    browser.go("aws-keys")
    browser.wait_text("Create a key")
    browser.fill("input[name=display_name]", "console-key")
    browser.fill("input[name=policies]", "default")
    browser.button("Create key").click()
    browser.wait_text("Secret access key")
    key_id = api.get("/sys/aws/credentials").json()["data"]["keys"][0]["access_key_id"]
    browser.button("Revoke", browser.row(key_id)).click()
    browser.button("Confirm revoke", browser.row(key_id)).click()
    browser.wait(lambda: not api.get("/sys/aws/credentials").json()["data"]["keys"])


def test_an_answer_after_the_user_moved_on_does_not_take_them_back(
    browser: Browser, api: httpx.Client
) -> None:
    """A delete that ends by showing its list must not pull back a user who left meanwhile."""
    api.put(
        "/auth/approle/role/late-answer", json={"token_policies": ["default"]}
    ).raise_for_status()
    browser.login_token(ROOT)
    browser.go("approle", "late-answer")
    browser.wait_text("Role late-answer")
    # Hold every DELETE's answer for a second, as a slow network would.
    browser.script(
        """const send = window.fetch;
        window.fetch = (url, init) => (init && init.method === "DELETE")
          ? new Promise((done) => setTimeout(() => done(send(url, init)), 1000))
          : send(url, init);"""
    )
    browser.button("Delete role").click()
    browser.button("Confirm delete role").click()
    browser.go("userpass")
    browser.wait_text("Create or update a user")
    browser.wait(lambda: api.get("/auth/approle/role/late-answer").status_code == 404)
    browser.script("return new Promise((done) => setTimeout(done, 500))")
    assert browser.script("return location.hash") == "#/userpass"
    assert "Create or update a user" in browser.main_text()


def test_an_answer_as_the_user_leaves_does_not_take_them_back(
    browser: Browser, api: httpx.Client
) -> None:
    """The user's move changes the address before the page: a delete answered in between (the
    old page still shown, its hash no longer the address) must not move them back. Found by a
    loaded test machine, where the answer came at that moment."""
    api.put("/auth/approle/role/racing", json={"token_policies": ["default"]}).raise_for_status()
    browser.login_token(ROOT)
    browser.go("approle", "racing")
    browser.wait_text("Role racing")
    # The user leaves exactly as the DELETE is answered: before the console saw the new hash.
    browser.script(
        """const send = window.fetch;
        window.fetch = async (url, init) => {
          const answer = await send(url, init);
          if (init && init.method === "DELETE") location.hash = "#/userpass";
          return answer;
        };"""
    )
    browser.button("Delete role").click()
    browser.button("Confirm delete role").click()
    browser.wait(lambda: api.get("/auth/approle/role/racing").status_code == 404)
    browser.wait_text("Create or update a user")
    browser.script("return new Promise((done) => setTimeout(done, 500))")
    assert browser.script("return location.hash") == "#/userpass"
    assert "Create or update a user" in browser.main_text()


def test_operations_pages(browser: Browser, api: httpx.Client) -> None:
    api.put("/secrets/secret/ops/db", json={"data": {"password": "x"}}).raise_for_status()
    api.put(
        "/rotation/config/secret/ops/db",
        json={"rotator": "random", "interval": "30d", "params": {"field": "password"}},
    ).raise_for_status()
    browser.login_token(ROOT)
    browser.go("rotation", "secret", "ops/db")
    browser.wait_text("Not rotated yet")
    browser.button("Rotate now").click()
    browser.wait_text("Rotation success")
    browser.wait_text("success")
    assert api.get("/metadata/secret/ops/db").json()["current_version"] == 2

    browser.go("keys", "secret")
    browser.wait_text("Versions in use")
    assert browser.driver.find_elements(By.CSS_SELECTOR, "svg.terms rect")
    term_before = api.get("/namespaces/secret").json()["active_term"]
    browser.button("Rotate key").click()
    browser.button("Confirm rotate key").click()
    browser.wait(lambda: api.get("/namespaces/secret").json()["active_term"] == term_before + 1)

    browser.go("seal")
    browser.wait_text("Initialized")
    assert "Sealed\nno" in browser.main_text() or "Sealed no" in browser.main_text()

    browser.go("audit")
    browser.wait_text("Recent entries")
    browser.button("Verify").click()
    browser.wait_text("the chain is intact")
    browser.css("#audit-live").click()
    browser.wait_text("verifyAudit")
    entries = browser.main_text()
    assert ROOT not in entries and "hmac-sha256:" in entries


def test_the_secret_timeline_is_drawn(browser: Browser, api: httpx.Client) -> None:
    for value in ("a", "b", "c"):
        api.put("/secrets/secret/timeline/x", json={"data": {"v": value}}).raise_for_status()
    browser.login_token(ROOT)
    browser.go("secret", "secret", "timeline/x")
    browser.wait_text("Current version 3")
    dots = browser.driver.find_elements(By.CSS_SELECTOR, "svg.timeline circle")
    assert [d.get_attribute("data-version") for d in dots] == ["1", "2", "3"]


# -- an attacker


class _AttackerSite(http.server.BaseHTTPRequestHandler):
    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def attacker(server: StrongroomServer) -> Iterator[str]:
    """Another origin (another port) serving a hostile page aimed at the console."""
    target = server.addr
    _AttackerSite.page = f"""<!doctype html><html><body>
<iframe id="framed" src="{target}/ui/"></iframe>
<form id="forged" method="POST" action="{target}/api/v1/secrets/secret/csrf/forged"
      enctype="text/plain" target="sink">
  <input name='{{"data":{{"x":"' value='1"}}}}'>
</form>
<iframe name="sink"></iframe>
<script>
  document.getElementById("forged").submit();
  fetch("{target}/api/v1/secrets/secret/csrf/fetched", {{method: "PUT", credentials: "include",
    headers: {{"content-type": "application/json"}}, body: '{{"data":{{"x":"1"}}}}'}})
    .then(r => {{ window.fetched = r.status; }}, () => {{ window.fetched = "blocked"; }});
</script></body></html>""".encode()
    site = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _AttackerSite)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()


def test_framing_and_cross_site_requests_get_nothing(
    browser: Browser, api: httpx.Client, attacker: str
) -> None:
    browser.login_token(ROOT)  # a signed-in console in the same browser
    browser.driver.get(attacker)
    browser.wait(lambda: browser.script("return window.fetched !== undefined"), what="fetch")
    assert browser.script("return window.fetched") == "blocked"
    errors = " ".join(browser.console_errors())
    assert "frame-ancestors 'none'" in errors, errors
    for name in ("forged", "fetched"):
        assert api.get(f"/metadata/secret/csrf/{name}").status_code == 404


def test_the_browser_keeps_no_secret(browser: Browser, api: httpx.Client, tmp_path: Path) -> None:
    value = "stored-value-canary-5b2e"
    api.put("/secrets/secret/kept/x", json={"data": {"password": value}}).raise_for_status()
    api.put(
        "/auth/userpass/users/frank", json={"password": PASSWORD, "token_policies": ["default"]}
    ).raise_for_status()
    browser.login_password("frank", PASSWORD)
    browser.button("Log out").click()
    browser.login_token(ROOT)
    browser.go("secret", "secret", "kept/x")
    browser.wait_text("Current version 1")
    browser.button("Reveal").click()
    browser.wait_text(value)
    browser.go("tokens")
    browser.fill("input[name=policies]", "default")
    browser.button("Create token").click()
    browser.wait_text("Copy it now")
    made_token = browser.css(".secret-box code").text
    storage = browser.script(
        "return [document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage),"
        " location.href, document.title, history.length]"
    )
    assert storage[0:3] == ["", "{}", "{}"]
    for secret in (ROOT, value, PASSWORD, made_token):
        assert secret not in storage[3] and secret not in storage[4]
    browser.close()
    hits = find_canaries(read_tree(browser.profile), [ROOT, value, PASSWORD, made_token])
    assert hits == []


def test_recent_audit_entries_need_sudo_and_come_as_written(
    server: StrongroomServer, api: httpx.Client
) -> None:
    value = "recent-entry-canary-0d77"
    api.put("/secrets/secret/recent/x", json={"data": {"v": value}}).raise_for_status()
    sink = api.get("/sys/audit").json()["sinks"][0]["name"]
    first = api.get(f"/sys/audit/{sink}/recent", params={"limit": 5}).json()
    assert 0 < len(first["entries"]) <= 5
    assert [e["seq"] for e in first["entries"]] == sorted(e["seq"] for e in first["entries"])
    everything = api.get(f"/sys/audit/{sink}/recent", params={"limit": 100}).text
    assert value not in everything and ROOT not in everything
    # Only what is newer than what the reader has seen.
    after = api.get(f"/sys/audit/{sink}/recent", params={"after": first["last"]}).json()
    assert all(e["seq"] > first["last"] for e in after["entries"])
    assert api.get("/sys/audit/nope/recent").status_code == 404
    assert api.get(f"/sys/audit/{sink}/recent", params={"after": "-1"}).status_code == 400
    reader = api.post("/auth/token/create", json={"policies": ["default"]}).json()["auth"]
    denied = httpx.get(
        f"{server.addr}/api/v1/sys/audit/{sink}/recent",
        headers={"Authorization": f"Bearer {reader['client_token']}"},
    )
    assert denied.status_code == 403
