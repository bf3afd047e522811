// Operations: rotation status and history, key terms, seal status, audit sinks and live entries.
import { native } from "./api.js";
import { termBars } from "./charts.js";
import { button, dangerButton, h, link, mount, notice, table, titled, when } from "./dom.js";

function schedule(s) {
  if (!s) return "—";
  if (s.cron) return `cron ${s.cron}`;
  if (s.interval) return `every ${Math.round(s.interval / 86400 * 10) / 10} days`;
  return JSON.stringify(s);
}

async function rotation(el, [ns, path]) {
  titled("Rotation");
  const status = h("div", {});
  const rotations = (await native("GET", "rotation")).data;
  const detail = h("div", {});
  if (ns !== undefined) {
    const r = (await native("GET", ["rotation", "config", ns, path])).data;
    mount(detail, h("div", { class: "card" }, h("h2", {}, `${ns}/${path}`),
      table(["", ""], [["Rotator", r.rotator], ["Schedule", schedule(r.schedule)], ["Next due", when(r.next_due)],
        ["Last rotated", when(r.last_rotated)], ["Failures in a row", String(r.failures)],
        ["In progress", r.in_progress ? JSON.stringify(r.in_progress) : "no"]]),
      h("div", { class: "row" },
        button("Rotate now", async () => {
          try {
            const result = (await native("POST", ["rotation", "run", ns, path])).data;
            await rotation(el, [ns, path]);
            mount(el.querySelector(".rotation-status"), notice(`Rotation ${result.result}${result.version ? `: version ${result.version}` : ""}${result.error ? ` (${result.error})` : ""}`, result.result === "success" ? "ok" : "error"));
          } catch (error) {
            mount(status, notice(error.message));
          }
        }, "primary"),
        link("Open the secret", "secret", ns, path)),
      h("h2", {}, "History"),
      table(["When", "Result", "Version", "Error"], [...r.history].reverse().map((e) => [when(e.time), e.result, e.version ? `v${e.version}` : "—", e.error || "—"]), "Not rotated yet.")));
  }
  mount(el, h("h1", {}, "Rotation"), h("div", { class: "rotation-status" }), status,
    table(["Secret", "Rotator", "Schedule", "Next due", "Last rotated", "Failures"],
      rotations.map((r) => [link(`${r.namespace}/${r.path}`, "rotation", r.namespace, r.path), r.rotator, schedule(r.schedule),
        when(r.next_due), when(r.last_rotated), String(r.failures)]),
      "No rotation you may see is configured."),
    detail);
}

async function keys(el, [ns]) {
  titled("Key terms");
  const spaces = (await native("GET", "namespaces")).namespaces;
  const detail = h("div", {});
  if (ns !== undefined) {
    const doc = await native("GET", ["namespaces", ns, "keys"]);
    const status = h("div", {});
    mount(detail, h("div", { class: "card" }, h("h2", {}, `Namespace ${ns}`), status,
      termBars(doc.terms),
      table(["Term", "Created", "Active", "Encryptions", "Versions in use"], doc.terms.map((t) => [String(t.term), when(t.created_time),
        t.active ? "yes" : "no", String(t.encryptions), String(t.versions_in_use)])),
      h("div", { class: "row" }, dangerButton("Rotate key", async () => {
        try {
          await native("POST", ["namespaces", ns, "keys", "rotate"], {});
          await keys(el, [ns]);
        } catch (error) {
          mount(status, notice(error.message));
        }
      }))));
  }
  mount(el, h("h1", {}, "Key terms"),
    table(["Namespace", "Kind", "Active term", "Key provider"], spaces.map((s) => [link(s.name, "keys", s.name), s.kind, String(s.active_term), s.key_provider])),
    detail);
}

async function seal(el) {
  titled("Seal status");
  const s = (await native("GET", "sys/seal-status")).data;
  const status = h("div", {});
  mount(el, h("h1", {}, "Seal status"), status,
    table(["", ""], [["Seal", s.type], ["Initialized", s.initialized ? "yes" : "no"], ["Sealed", s.sealed ? "yes" : "no"],
      ["Key shares", s.n ? `${s.t} of ${s.n}` : "—"], ["Rekey pending", s.rekey_pending ? "yes" : "no"]]),
    h("p", { class: "muted" }, "Sealing stops this node from answering until it is unsealed again (needs sudo on sys/seal)."),
    dangerButton("Seal this node", async () => {
      try {
        await native("POST", "sys/seal", {});
        mount(status, notice("Sealed.", "ok"));
      } catch (error) {
        mount(status, notice(error.message));
      }
    }));
}

let liveTimer = null;

async function audit(el) {
  titled("Audit");
  if (liveTimer) clearInterval(liveTimer);
  liveTimer = null;
  const sinks = (await native("GET", "sys/audit")).sinks;
  const status = h("div", {});
  const entries = h("div", { class: "audit-live" });
  let shown = [];
  let after = 0;
  let sink = sinks.length ? sinks[0].name : "";
  const poll = async () => {
    if (!document.body.contains(entries)) {
      clearInterval(liveTimer);
      liveTimer = null;
      return;
    }
    try {
      const doc = await native("GET", ["sys", "audit", sink, "recent"], undefined, { after, limit: 50 });
      after = doc.last;
      shown = [...doc.entries.reverse(), ...shown].slice(0, 200);
      mount(entries, table(["#", "Time", "Type", "Operation", "Entry (as written: values HMAC'd)"],
        shown.map(({ seq, entry }) => [String(seq), entry.time || "—", entry.type || "—",
          (entry.request && entry.request.operation) || entry.operation || "—",
          h("code", { class: "audit-entry" }, JSON.stringify(entry))]), "No entries yet."));
    } catch (error) {
      mount(entries, notice(error.message));
    }
  };
  const verify = (name) => async () => {
    try {
      const r = (await native("POST", ["sys", "audit", name, "verify"])).data;
      mount(status, notice(r.ok ? `${name}: the chain is intact (${r.entries} entries).` : `${name}: ${r.problem} (line ${r.line})`, r.ok ? "ok" : "error"));
    } catch (error) {
      mount(status, notice(error.message));
    }
  };
  const liveToggle = h("input", { type: "checkbox", id: "audit-live", on: { change: (e) => {
    if (e.target.checked) {
      poll();
      liveTimer = setInterval(poll, 2000);
    } else {
      clearInterval(liveTimer);
      liveTimer = null;
    }
  } } });
  mount(el, h("h1", {}, "Audit"), status,
    table(["Sink", "Type", "Entries", "Where", ""], sinks.map((s) => [s.name, s.type, String(s.entries ?? "—"), s.path || "the store",
      h("div", { class: "row" }, button("Verify", verify(s.name)), button("Show recent", () => {
        sink = s.name;
        after = 0;
        shown = [];
        poll();
      }))]), "No audit sink: nothing is recorded."),
    h("h2", {}, "Recent entries on this node"),
    h("div", { class: "row" }, h("label", {}, liveToggle, "Live (every 2 s)"), button("Refresh", poll)),
    entries);
  if (sink) await poll();
}

export const operationsPages = { rotation, keys, seal, audit };
