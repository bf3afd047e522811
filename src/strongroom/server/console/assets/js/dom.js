// Building the page: every value reaches the DOM as text (textContent, attributes set one by
// one), never as markup, so a secret's name or value cannot become a script.

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "on") {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "value") {
      el.value = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// An action that ends by moving to another page moves only if the user is still on the page
// that started it: an answer arriving after they went elsewhere must not take them back.
// After an action, the page moves on, unless the user already went elsewhere: the address
// changes before the page does, so a page still shown may no longer be the one asked for.
export function moveOn(page, hash) {
  if (page.isConnected && location.hash === page.dataset.hash) location.hash = hash;
}

export function notice(text, kind = "error") {
  return h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function table(headings, rows, empty = "Nothing here.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, headings.map((name) => h("th", {}, name)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
  );
}

export function button(label, onClick, cls = "") {
  return h("button", { type: "button", class: cls, on: { click: onClick } }, label);
}

// A destructive action asks twice: the first click arms it, the second within 5 s runs it.
export function dangerButton(label, onConfirm) {
  const el = button(label, () => {
    if (el.dataset.armed) {
      delete el.dataset.armed;
      onConfirm();
      return;
    }
    el.dataset.armed = "1";
    el.className = "confirm";
    el.textContent = `Confirm ${label.toLowerCase()}`;
    setTimeout(() => {
      delete el.dataset.armed;
      el.className = "danger";
      el.textContent = label;
    }, 5000);
  }, "danger");
  return el;
}

// A form whose submit runs `action(values)`; errors from the server are shown above it.
export function form(fields, submitLabel, action, cls = "inline") {
  const status = h("div", { class: "form-status" });
  const el = h("form", { class: cls }, fields, h("button", { type: "submit", class: "primary" }, submitLabel));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    for (const input of el.querySelectorAll("input, select, textarea")) {
      if (input.name) values[input.name] = input.type === "checkbox" ? input.checked : input.value;
    }
    mount(status);
    try {
      const message = await action(values, el);
      if (message) mount(status, message instanceof Node ? message : notice(message, "ok"));
    } catch (error) {
      mount(status, notice(error.message));
    }
  });
  return h("div", {}, status, el);
}

export function input(name, labelText, attrs = {}) {
  return h("label", {}, labelText, h("input", { name, autocomplete: "off", spellcheck: "false", ...attrs }));
}

export function when(value) {
  if (value === null || value === undefined || value === "" || value === 0) return "—";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace("T", " ").slice(0, 19) + "Z";
}

export function list(values) {
  return (values || []).join(", ") || "—";
}

export function splitList(text) {
  return text.split(",").map((part) => part.trim()).filter(Boolean);
}

// A path segment for the address bar: names travel encoded, never parsed as a route.
export function link(label, ...segments) {
  return h("a", { href: "#/" + segments.map(encodeURIComponent).join("/") }, label);
}

// The title names the section only: never a secret's path or value.
export function titled(section) {
  document.title = `${section} · strongroom`;
}
