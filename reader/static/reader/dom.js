// Small DOM helpers: no framework, no inline handlers (the page's CSP allows
// no inline script), text always set as text.

import { api, ApiError, NETWORK_MESSAGE } from "./api.js";

// h("button", { class: "x", onclick: fn }, "text", child, ...)
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// Go to a view: a new address routes through hashchange, the same one again here.
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new Event("reader:route"));
  else location.hash = hash;
}

export const main = () => document.getElementById("main");

// Replace the page's content and move focus to its heading.
export function show(title, ...children) {
  const heading = h("h2", { tabindex: "-1" }, title);
  main().replaceChildren(heading, ...children);
  document.title = `${title} · langlearn reader`;
  heading.focus();
  return heading;
}

// Polite announcement for screen readers.
export function announce(text) {
  const status = document.getElementById("status");
  status.textContent = "";
  setTimeout(() => {
    status.textContent = text;
  }, 50);
}

export function messageOf(error) {
  if (error instanceof ApiError) return error.status === 0 ? NETWORK_MESSAGE : error.message;
  return String(error);
}

// An alert box showing an error: the API's own `detail`, or its field errors.
export function errorBox(error) {
  const box = h("div", { class: "error", role: "alert" });
  const fields = error instanceof ApiError ? Object.entries(error.fields) : [];
  if (fields.length) {
    box.append(h("ul", {}, fields.map(([field, text]) => h("li", {}, `${field}: ${text}`))));
  } else {
    box.textContent = messageOf(error);
  }
  return box;
}

// Put `error` (or nothing) in the slot element.
export function report(slot, error) {
  slot.replaceChildren(...(error ? [errorBox(error)] : []));
}

let ids = 0;

export function field(label, control, hint) {
  const id = control.id || `f-${++ids}`;
  control.id = id;
  let note = null;
  if (hint) {
    note = h("small", { id: `${id}-hint` }, hint);
    control.setAttribute("aria-describedby", note.id);
  }
  return h("p", { class: "field" }, h("label", { for: id }, label), control, note);
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([code, label]) => h("option", { value: code, selected: code === value }, label)),
  );
}

// "es" → "Spanish", in the page's language.
export function languageName(code) {
  try {
    return new Intl.DisplayNames([document.documentElement.lang || "en"], { type: "language" }).of(code);
  } catch {
    return code.toUpperCase();
  }
}

export const LEVELS = ["A1", "A2", "B1", "B2", "C1", "C2"];

// The learner's choices of language and level (not secrets: localStorage).
export const prefs = {
  get language() {
    return localStorage.getItem("langlearn.language") || "es";
  },
  set language(code) {
    localStorage.setItem("langlearn.language", code);
  },
  get level() {
    return localStorage.getItem("langlearn.level") || "A2";
  },
  set level(code) {
    localStorage.setItem("langlearn.level", code);
  },
};

let languages = null;

// What the API can teach and translate into (read once).
export async function languageLists() {
  languages = languages || (await api("/api/languages"));
  return languages;
}

// The language (and level) a view shows, changeable where it is shown.
export async function chooser({ level = false } = {}) {
  const { target_languages } = await languageLists();
  const language = select("language", target_languages.map((l) => [l.code, l.name]), prefs.language);
  const levels = level && select("level", LEVELS.map((l) => [l, l]), prefs.level);
  const changed = () => {
    prefs.language = language.value;
    if (levels) prefs.level = levels.value;
    go(location.hash);
  };
  language.addEventListener("change", changed);
  if (levels) levels.addEventListener("change", changed);
  return h("div", { class: "row chooser" }, field("Language", language), levels ? field("Level", levels) : null);
}
