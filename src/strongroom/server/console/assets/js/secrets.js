// Secrets: namespaces, folders, search, and one secret's versions, values, labels and history.
import { native } from "./api.js";
import { versionTimeline } from "./charts.js";
import { button, dangerButton, form, h, input, link, mount, moveOn, notice, table, titled, when } from "./dom.js";

async function namespaces(el) {
  titled("Namespaces");
  const doc = await native("GET", "namespaces");
  const rows = doc.namespaces.map((ns) => [
    ns.kind.startsWith("kv") ? link(ns.name, "browse", ns.name, "") : ns.name,
    ns.kind,
    ns.description || "—",
    `term ${ns.active_term}`,
    when(ns.created_time),
  ]);
  mount(el, h("h1", {}, "Namespaces"),
    table(["Name", "Kind", "Description", "Key", "Created"], rows, "No namespace you may list."),
    goTo());
}

// Policies may let a token read a secret without listing its folder (as in Vault): open a path
// directly. "ns/folder/" browses a folder, "ns/path" opens a secret.
function goTo() {
  return h("div", { class: "card" }, h("h2", {}, "Go to a path"),
    form([input("target", "Namespace/path", { id: "goto-path", placeholder: "secret/team/app", size: 40 })], "Open", (values) => {
      const [ns, ...rest] = values.target.replace(/^\/+/, "").split("/");
      const path = rest.join("/");
      if (!ns) throw new Error("Give a namespace and a path: secret/team/app");
      location.hash = path && !path.endsWith("/")
        ? `#/secret/${encodeURIComponent(ns)}/${encodeURIComponent(path)}`
        : `#/browse/${encodeURIComponent(ns)}/${encodeURIComponent(path)}`;
    }));
}

function crumbs(ns, prefix) {
  const parts = prefix.split("/").filter(Boolean);
  const trail = [link(ns, "browse", ns, "")];
  let walked = "";
  for (const part of parts) {
    walked += part + "/";
    trail.push(" / ", link(part, "browse", ns, walked));
  }
  return h("div", { class: "crumbs" }, trail);
}

async function browse(el, [ns, prefix = ""]) {
  titled("Secrets");
  const path = prefix ? ["list", ns, prefix.replace(/\/$/, "")] : ["list", ns];
  const doc = await native("GET", path);
  const rows = doc.keys.map((key) => [
    key.endsWith("/") ? link(key, "browse", ns, prefix + key) : link(key, "secret", ns, prefix + key),
    key.endsWith("/") ? "folder" : "secret",
  ]);
  mount(el, h("h1", {}, "Secrets"), crumbs(ns, prefix),
    h("div", { class: "row" },
      h("a", { href: "#/new/" + encodeURIComponent(ns) + "/" + encodeURIComponent(prefix) }, "New secret here"),
      h("a", { href: "#/search/" + encodeURIComponent(ns) }, "Search this namespace")),
    table(["Name", ""], rows, "This folder is empty, or holds nothing you may list."));
}

async function search(el, [ns = ""]) {
  titled("Search");
  const doc = await native("GET", "namespaces");
  const names = doc.namespaces.filter((n) => n.kind.startsWith("kv")).map((n) => n.name);
  const results = h("div", {});
  mount(el, h("h1", {}, "Search"),
    form([
      h("label", {}, "Namespace", h("select", { name: "namespace", id: "search-namespace" },
        names.map((name) => h("option", { value: name, selected: name === ns }, name)))),
      input("prefix", "Path starts with", { id: "search-prefix" }),
      input("name", "Name (text or glob)", { id: "search-name" }),
    ], "Search", async (values) => {
      const found = await native("GET", ["search", values.namespace], undefined, { prefix: values.prefix, name: values.name, limit: 200 });
      mount(results, table(["Secret"], found.keys.map((key) => [link(key, "secret", values.namespace, key)]),
        "No secret you may see matches."));
    }),
    results);
}

// An editor of a secret's fields: rows of name and value (values typed into password fields).
function fieldsEditor(initial = {}) {
  const rows = h("div", { class: "fields" });
  const addRow = (name = "", value = "") => {
    const row = h("div", { class: "row field-row" },
      h("input", { class: "field-name", placeholder: "name", value: name, autocomplete: "off", spellcheck: "false" }),
      h("input", { class: "field-value", placeholder: "value", type: "password", value, autocomplete: "new-password", spellcheck: "false" }),
      button("Remove", () => row.remove()));
    rows.append(row);
  };
  const entries = Object.entries(initial);
  if (entries.length) entries.forEach(([k, v]) => addRow(k, typeof v === "string" ? v : JSON.stringify(v)));
  else addRow();
  const el = h("div", {}, rows, h("div", { class: "row" },
    button("Add field", () => addRow()),
    h("label", {}, h("input", { type: "checkbox", class: "show-values", on: { change: (e) => {
      for (const v of rows.querySelectorAll(".field-value")) v.type = e.target.checked ? "text" : "password";
    } } }), "Show values")));
  el.values = () => {
    const data = {};
    for (const row of rows.querySelectorAll(".field-row")) {
      const name = row.querySelector(".field-name").value.trim();
      if (name) data[name] = row.querySelector(".field-value").value;
    }
    return data;
  };
  return el;
}

async function newSecret(el, [ns, prefix = ""]) {
  titled("New secret");
  const editor = fieldsEditor();
  const status = h("div", {});
  const pathInput = h("input", { id: "new-path", value: prefix, autocomplete: "off", spellcheck: "false", size: 50 });
  mount(el, h("h1", {}, "New secret"), crumbs(ns, prefix), status,
    h("div", { class: "row" }, h("label", {}, "Path", pathInput)),
    editor,
    button("Create", async () => {
      const path = pathInput.value;
      try {
        await native("PUT", ["secrets", ns, path], { data: editor.values(), cas: 0 });
        moveOn(el, "#/secret/" + encodeURIComponent(ns) + "/" + encodeURIComponent(path));
      } catch (error) {
        mount(status, notice(error.message));
      }
    }, "primary"));
}

function diffRows(older, newer, showValues) {
  const keys = [...new Set([...Object.keys(older), ...Object.keys(newer)])].sort();
  return keys.map((key) => {
    const before = older[key];
    const after = newer[key];
    let state = "same";
    if (!(key in older)) state = "added";
    else if (!(key in newer)) state = "removed";
    else if (JSON.stringify(before) !== JSON.stringify(after)) state = "changed";
    const shown = (v) => (v === undefined ? "—" : showValues ? (typeof v === "string" ? v : JSON.stringify(v)) : "••••••");
    return [key, h("span", { class: `diff-${state}` }, state), h("code", {}, shown(before)), h("code", {}, shown(after))];
  });
}

async function secret(el, [ns, path]) {
  titled("Secret");
  const status = h("div", {});
  const say = (text, kind = "ok") => mount(status, notice(text, kind));
  const run = async (action, done) => {
    try {
      await action();
      await secret(el, [ns, path]);
      mount(el.querySelector(".action-status"), notice(done, "ok"));
    } catch (error) {
      say(error.message, "error");
    }
  };
  const meta = await native("GET", ["metadata", ns, path]);
  const revealed = h("div", { class: "revealed" });
  const reveal = async (version) => {
    try {
      const doc = await native("GET", ["secrets", ns, path], undefined, { version });
      const rows = Object.entries(doc.data).map(([k, v]) => [k, h("code", { class: "secret-value" }, typeof v === "string" ? v : JSON.stringify(v))]);
      mount(revealed, h("div", { class: "card" }, h("h2", {}, `Version ${version}`),
        table(["Field", "Value"], rows, "No fields."), button("Hide", () => mount(revealed))));
    } catch (error) {
      say(error.message, "error");
    }
  };
  const versionRows = [...meta.versions].reverse().map((v) => {
    const labels = Object.entries(meta.labels || {}).filter(([, n]) => n === v.version).map(([l]) => l);
    const actions = [];
    if (v.state === "live") {
      actions.push(button("Reveal", () => reveal(v.version)));
      actions.push(button("Delete", () => run(() => native("POST", ["delete", ns, path], { versions: [v.version] }), `Version ${v.version} deleted.`)));
      if (v.version !== meta.current_version) {
        actions.push(button("Roll back to", () => run(() => native("POST", ["rollback", ns, path], { version: v.version }), `Version ${v.version} copied to a new current version.`)));
      }
    }
    if (v.state === "deleted") {
      actions.push(button("Undelete", () => run(() => native("POST", ["undelete", ns, path], { versions: [v.version] }), `Version ${v.version} restored.`)));
    }
    if (v.state !== "destroyed") {
      actions.push(dangerButton("Destroy", () => run(() => native("POST", ["destroy", ns, path], { versions: [v.version] }), `Version ${v.version} destroyed.`)));
    }
    return [String(v.version), when(v.created_time), h("span", { class: `state-${v.state}` }, v.state),
      labels.join(", ") || "—", h("div", { class: "row" }, actions)];
  });

  const live = meta.versions.filter((v) => v.state === "live").map((v) => v.version);
  const pick = (name, chosen) => h("select", { name, class: `compare-${name}` }, live.map((n) => h("option", { value: n, selected: n === chosen }, `v${n}`)));
  const comparison = h("div", {});
  const compare = async (values) => {
    const [a, b] = await Promise.all([values.from, values.to].map((version) => native("GET", ["secrets", ns, path], undefined, { version })));
    const draw = (showValues) => mount(comparison, table(["Field", "Change", `v${values.from}`, `v${values.to}`], diffRows(a.data, b.data, showValues)),
      button(showValues ? "Hide values" : "Show values", () => draw(!showValues)));
    draw(false);
  };

  const editor = fieldsEditor();
  const labelRows = Object.entries(meta.labels || {}).map(([label, version]) => [label, `v${version}`,
    ["current", "previous", "pending"].includes(label) ? "—" : button("Remove", () => run(() => native("POST", ["labels", ns, path], { label, version: null }), `Label ${label} removed.`))]);

  mount(el,
    h("h1", {}, path.split("/").pop()), crumbs(ns, path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : ""),
    h("div", { class: "action-status" }), status,
    h("div", { class: "card" },
      h("div", {}, `Current version ${meta.current_version} · keeps ${meta.max_versions} versions · check-and-set ${meta.cas_required ? "required" : "optional"}`),
      h("div", { class: "muted" }, `Created ${when(meta.created_time)} · updated ${when(meta.updated_time)}`),
      versionTimeline(meta.versions, meta.labels)),
    h("h2", {}, "Versions"),
    table(["Version", "Created", "State", "Labels", ""], versionRows),
    revealed,
    h("h2", {}, "Compare versions"),
    live.length >= 2
      ? form([pick("from", live[live.length - 2]), pick("to", live[live.length - 1])], "Compare", compare)
      : h("p", { class: "muted" }, "Two live versions are needed to compare."),
    comparison,
    h("h2", {}, "Write a new version"),
    h("p", { class: "muted" }, `Written with check-and-set on version ${meta.current_version}: a change made meanwhile is not overwritten.`),
    editor,
    h("div", { class: "row" },
      button("Start from the current version", async () => {
        const doc = await native("GET", ["secrets", ns, path]);
        const fresh = fieldsEditor(doc.data);
        editor.replaceWith(fresh);
        Object.assign(editor, { values: fresh.values });
      }),
      button("Save new version", () => run(() => native("PUT", ["secrets", ns, path], { data: editor.values(), cas: meta.current_version }), "New version saved."), "primary")),
    h("h2", {}, "Labels"),
    table(["Label", "Version", ""], labelRows, "No labels."),
    form([input("label", "Label", { class: "label-name" }), input("version", "Version", { type: "number", min: 1, value: meta.current_version })],
      "Set label", async (values) => run(() => native("POST", ["labels", ns, path], { label: values.label, version: Number(values.version) }), `Label ${values.label} set.`)),
    h("h2", {}, "Delete"),
    h("p", { class: "muted" }, "Removes every version and the history of this secret."),
    dangerButton("Delete secret", async () => {
      try {
        await native("DELETE", ["metadata", ns, path]);
        moveOn(el, "#/browse/" + encodeURIComponent(ns) + "/");
      } catch (error) {
        say(error.message, "error");
      }
    }),
  );
}

export const secretPages = { namespaces, browse, search, new: newSecret, secret };
