// The console's shell: sign-in, the navigation and the address-bar router. Pages live in their
// own modules; each is a function (main element, route parts) that fills the main element.
import { native, signOut, signedIn, useToken } from "./api.js";
import { button, form, h, input, mount, notice, titled } from "./dom.js";
import { accessPages } from "./access.js";
import { operationsPages } from "./operations.js";
import { secretPages } from "./secrets.js";

const pages = { ...secretPages, ...accessPages, ...operationsPages };

const NAV = [
  ["Secrets", [["namespaces", "Namespaces"], ["search", "Search"]]],
  ["Access", [["policies", "Policies"], ["tokens", "Tokens"], ["approle", "AppRole roles"],
              ["userpass", "Userpass users"], ["aws-keys", "AWS access keys"]]],
  ["Operations", [["rotation", "Rotation"], ["keys", "Key terms"], ["seal", "Seal status"],
                  ["audit", "Audit"]]],
];

const main = () => document.getElementById("main");

function parts() {
  const hash = location.hash.replace(/^#\/?/, "");
  return hash ? hash.split("/").map(decodeURIComponent) : [];
}

async function render() {
  const [page = "namespaces", ...rest] = parts();
  if (!signedIn()) return showLogin();
  document.getElementById("nav").hidden = false;
  for (const a of document.querySelectorAll("nav#nav a")) {
    a.className = a.dataset.page === page ? "here" : "";
  }
  const show = pages[page] || pages.namespaces;
  // Each visit gets a page element of its own: work a page left running (an answer that
  // arrives after the user moved on) redraws a page no longer shown, never the new one.
  const el = h(
    "div",
    { class: "page", "data-hash": location.hash },
    h("p", { class: "muted" }, "Loading…"),
  );
  mount(main(), el);
  try {
    await show(el, rest);
  } catch (error) {
    mount(el, notice(error.message));
  }
}

function buildNav() {
  const nav = document.getElementById("nav");
  mount(nav, NAV.map(([group, items]) => [
    h("div", { class: "group" }, group),
    items.map(([page, label]) => h("a", { href: `#/${page}`, "data-page": page }, label)),
  ]));
}

async function showWho() {
  const who = document.getElementById("who");
  if (!signedIn()) return mount(who);
  let name = "";
  try {
    const self = await native("GET", "auth/token/lookup-self");
    name = `${self.data.display_name} (${self.data.policies.join(", ")})`;
  } catch {
    name = "";
  }
  mount(who, h("span", {}, name), button("Log out", async () => {
    await signOut();
    location.hash = "";
    start();
  }));
}

async function sealedBanner() {
  try {
    const status = await native("GET", "sys/seal-status");
    if (!status.data.initialized) return notice("This server is not initialized: run strongroom operator init.", "warn");
    if (status.data.sealed) return unsealForm(status.data);
  } catch (error) {
    return notice(error.message);
  }
  return null;
}

function unsealForm(status) {
  return h("div", { class: "card" },
    h("h2", {}, "The server is sealed"),
    h("p", {}, `Unseal progress: ${status.progress} of ${status.t} key shares.`),
    form([input("key", "Key share", { type: "password" })], "Submit share", async (values) => {
      const result = await native("POST", "sys/unseal", { key: values.key });
      start();
      return result.data.sealed ? `Progress: ${result.data.progress} of ${result.data.t}` : "Unsealed.";
    }));
}

async function showLogin() {
  titled("Log in");
  document.getElementById("nav").hidden = true;
  const el = main();
  const sealed = await sealedBanner();
  const enter = async (tokenValue, own) => {
    useToken(tokenValue, own);
    try {
      await native("GET", "auth/token/lookup-self");
    } catch (error) {
      useToken(null, false);
      throw error;
    }
    await showWho();
    if (!location.hash || location.hash === "#/") location.hash = "#/namespaces";
    else render();
  };
  mount(el, h("div", { class: "login" },
    h("h1", {}, "Log in to strongroom"),
    sealed,
    h("fieldset", {}, h("legend", {}, "Token"),
      form([input("token", "Token", { type: "password", id: "login-token" })], "Log in with token",
        (values) => enter(values.token.trim(), false), "")),
    h("fieldset", {}, h("legend", {}, "Username and password"),
      form([
        input("username", "Username", { id: "login-username" }),
        input("password", "Password", { type: "password", id: "login-password" }),
      ], "Log in", async (values) => {
        const result = await native("POST", ["auth", "userpass", "login", values.username], { password: values.password });
        await enter(result.auth.client_token, true);
      }, "")),
    h("p", { class: "muted" }, "The session lives in this tab's memory only: reloading the page logs you out."),
  ));
}

function start() {
  buildNav();
  showWho();
  render();
}

window.addEventListener("hashchange", render);
window.addEventListener("strongroom:signed-out", () => {
  mount(main(), notice("Your token is no longer valid; log in again."));
  showWho();
  setTimeout(render, 1500);
});
start();
