// City of Albuquerque social media feedback widget: the form inside the iframe (and /report).
//
// Plain ES module, no framework, no third-party code. Every string a person reads comes from
// the message catalogues embedded in the page (i18n/en.json, i18n/es.json); the code only
// holds keys. It talks only to its own origin, keeps nothing in storage, and never changes the
// URL or the history.

const config = JSON.parse(document.getElementById("cs-config").textContent);
const CATALOGUES = config.messages;
const LANGS = Object.keys(CATALOGUES);
const parentOrigin = config.mode === "frame" ? config.parentOrigin : null;
const app = document.getElementById("cs-app");

const state = {
  lang: config.lang,
  options: config.defaults,
  accounts: null, // null: loading; false: unavailable; []: loaded
  policies: null,
  receipt: null, // the receipt code while the status view is open, never stored
};

// --- i18n ------------------------------------------------------------------------------

function t(key, args) {
  let text = CATALOGUES[state.lang][key] ?? CATALOGUES.en[key] ?? key;
  if (args) {
    text = text.replace(/\{(\w+)\}/g, (match, name) => (name in args ? String(args[name]) : match));
  }
  return text;
}

const ATTR_PREFIX = "data-i18n-attr-";

function translate(el) {
  const args = el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined;
  if (el.dataset.i18n) el.textContent = t(el.dataset.i18n, args);
  for (const name of el.getAttributeNames()) {
    if (name.startsWith(ATTR_PREFIX)) el.setAttribute(name.slice(ATTR_PREFIX.length), t(el.getAttribute(name), args));
  }
  if (el.dataset.date) el.textContent = formatDate(el.dataset.date);
  if (el.dataset.bytes) el.textContent = formatBytes(Number(el.dataset.bytes));
}

function translateAll(root) {
  translate(root);
  for (const el of root.querySelectorAll("*")) {
    if (el.dataset.i18n || el.dataset.date || el.dataset.bytes || el.dataset.i18nArgs !== undefined
        || el.getAttributeNames().some((n) => n.startsWith(ATTR_PREFIX))) {
      translate(el);
    }
  }
}

function setText(el, key, args) {
  el.dataset.i18n = key;
  if (args) el.dataset.i18nArgs = JSON.stringify(args);
  else delete el.dataset.i18nArgs;
  translate(el);
}

function formatDate(iso) {
  const date = new Date(`${iso.slice(0, 10)}T12:00:00Z`);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(state.lang, { dateStyle: "long", timeZone: "UTC" }).format(date);
}

function formatBytes(bytes) {
  const fmt = new Intl.NumberFormat(state.lang, { maximumFractionDigits: 1 });
  if (bytes < 1024 * 1024) return t("size.kb", { n: fmt.format(Math.max(1, Math.round(bytes / 1024))) });
  return t("size.mb", { n: fmt.format(bytes / (1024 * 1024)) });
}

// --- DOM helper --------------------------------------------------------------------------
// h("button", {type: "button", text: "key", args: {...}, attrs: {"aria-label": "key"}, on: {click}}, ...children)

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") el.dataset.i18n = value;
    else if (key === "args") el.dataset.i18nArgs = JSON.stringify(value);
    else if (key === "attrs") for (const [attr, k] of Object.entries(value)) el.setAttribute(ATTR_PREFIX + attr, k);
    else if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "class") el.className = value;
    else if (key === "value") el.value = value;
    else if (key === "data") el.textContent = value; // data from the API: never HTML
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  translate(el);
  return el;
}

function announce(key, args) {
  const region = document.getElementById("cs-announcer");
  region.textContent = "";
  window.setTimeout(() => setText(region, key, args), 50);
}

// --- talking to the City page (only when embedded by an allowed origin) ------------------

function post(message) {
  if (parentOrigin && window.parent !== window) window.parent.postMessage(message, parentOrigin);
}

const THEME_PATTERNS = {
  "--cs-color-primary": /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/,
  "--cs-color-text": /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/,
  "--cs-color-background": /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/,
  "--cs-font-family": /^[A-Za-z0-9 ,'"-]{1,120}$/,
  "--cs-radius": /^(?:0|[0-9]{1,2}(?:\.[0-9]{1,2})?(?:px|rem|em))$/,
};

function luminance(hex) {
  let value = hex.slice(1);
  if (value.length === 3) value = [...value].map((c) => c + c).join("");
  const channels = [0, 2, 4].map((i) => parseInt(value.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
}

function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// The theme guard. The host's values are validated again here, then every text/background pair
// the theme can change is checked at WCAG AA (4.5:1 for text, 3:1 for borders of controls, 1.4.11)
// in the palette that suits the background (light or dark): hints, errors, links and buttons get
// colours that work on it. A themed colour that fails is replaced by the palette's; if the pairs
// still fail, the theme's colours are refused as a whole. The focus indicator is a 3px outline in
// the text colour (so the text pair covers it); the widget has no disabled controls.
const PALETTES = {
  light: { "--cs-color-text": "#1a1a1a", "--cs-color-primary": "#1d4e89", "--cs-color-muted": "#4a4a4a",
    "--cs-color-border": "#595959", "--cs-color-error": "#b00020" },
  dark: { "--cs-color-text": "#f1f1f1", "--cs-color-primary": "#8ab4f8", "--cs-color-muted": "#c4c4c4",
    "--cs-color-border": "#9a9a9a", "--cs-color-error": "#ff8a80" },
};
const THEME_PAIRS = [
  ["--cs-color-text", "--cs-color-background", 4.5], // body text, labels, focus outline
  ["--cs-color-muted", "--cs-color-background", 4.5], // hints, counters, "(optional)"
  ["--cs-color-primary", "--cs-color-background", 4.5], // links, secondary buttons, choice titles
  ["--cs-color-on-primary", "--cs-color-primary", 4.5], // text on primary buttons
  ["--cs-color-error", "--cs-color-background", 4.5], // error messages and summary links
  ["--cs-color-border", "--cs-color-background", 3], // borders of fields
];

function themeColours(ok) {
  const background = ok["--cs-color-background"] || "#ffffff";
  const palette = PALETTES[luminance(background) < 0.2 ? "dark" : "light"];
  const colours = { ...palette, "--cs-color-background": background };
  for (const name of ["--cs-color-text", "--cs-color-primary"]) if (ok[name]) colours[name] = ok[name];
  const fails = ([fg, bg, min]) => contrast(colours[fg], colours[bg]) < min;
  const onPrimary = () => {
    const primary = colours["--cs-color-primary"];
    colours["--cs-color-on-primary"] = contrast("#ffffff", primary) >= contrast("#111111", primary) ? "#ffffff" : "#111111";
  };
  onPrimary();
  for (const pair of THEME_PAIRS) {
    if (fails(pair) && pair[0] in palette && colours[pair[0]] !== palette[pair[0]]) colours[pair[0]] = palette[pair[0]];
    if (pair[0] === "--cs-color-primary") onPrimary();
  }
  return THEME_PAIRS.some(fails) ? null : colours;
}

function applyTheme(theme) {
  if (!theme || typeof theme !== "object") return;
  const ok = {};
  for (const [name, pattern] of Object.entries(THEME_PATTERNS)) {
    if (typeof theme[name] === "string" && pattern.test(theme[name])) ok[name] = theme[name];
  }
  const colours = themeColours(ok);
  const root = document.documentElement;
  if (colours) {
    for (const [name, value] of Object.entries(colours)) root.style.setProperty(name, value);
    root.dataset.theme = luminance(colours["--cs-color-background"]) < 0.2 ? "dark" : "light";
  }
  for (const name of ["--cs-font-family", "--cs-radius"]) if (ok[name]) root.style.setProperty(name, ok[name]);
}

window.addEventListener("message", (event) => {
  if (!parentOrigin || event.origin !== parentOrigin || event.source !== window.parent) return;
  const data = event.data;
  if (data && typeof data === "object" && data.type === "civicsocial:theme") applyTheme(data.theme);
});

function watchSize() {
  if (!parentOrigin) return;
  let last = 0;
  const send = () => {
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      post({ type: "civicsocial:resize", height });
    }
  };
  new ResizeObserver(send).observe(document.body);
  send();
}

// --- the API (own origin only) ----------------------------------------------------------

async function getJSON(path) {
  const response = await fetch(path, {
    credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer", headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

// Proof of work (issue 21 item 1): under abnormal load the API answers 428 with a signed
// challenge; find a nonce such that SHA-256("<challenge>:<nonce>") starts with `bits` zero bits.
function zeroBits(bytes) {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) { bits += 8; continue; }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

async function solveChallenge(challenge, bits) {
  if (!globalThis.crypto?.subtle) return null;
  const encoder = new TextEncoder();
  const batch = 256;
  for (let start = 0; start < 2 ** 31; start += batch) {
    const tries = [];
    for (let nonce = start; nonce < start + batch; nonce += 1) {
      tries.push(crypto.subtle.digest("SHA-256", encoder.encode(`${challenge}:${nonce}`))
        .then((digest) => (zeroBits(new Uint8Array(digest)) >= bits ? nonce : -1)));
    }
    const found = (await Promise.all(tries)).find((nonce) => nonce >= 0);
    if (found !== undefined) return String(found);
  }
  return null;
}

// POST with XMLHttpRequest so uploads can report progress. Resolves {status, body}. A 428 with a
// challenge is solved and the same body sent once more with the proof.
async function send(path, body, onProgress) {
  const first = await sendOnce(path, body, onProgress, null);
  if (first.status !== 428 || typeof first.body?.challenge !== "string") return first;
  announce("report.working");
  const nonce = await solveChallenge(first.body.challenge, Number(first.body.bits) || 0);
  if (nonce === null) return { status: 429, body: first.body };
  return sendOnce(path, body, onProgress, `${first.body.challenge}:${nonce}`);
}

function sendOnce(path, body, onProgress, proof) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");
    if (proof) xhr.setRequestHeader("Proof-Of-Work", proof);
    if (!(body instanceof FormData)) xhr.setRequestHeader("Content-Type", "application/json");
    if (onProgress) {
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
      });
    }
    xhr.addEventListener("load", () => {
      let parsed = null;
      try {
        parsed = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        parsed = null;
      }
      resolve({ status: xhr.status, body: parsed });
    });
    xhr.addEventListener("error", () => resolve({ status: 0, body: null }));
    xhr.addEventListener("abort", () => resolve({ status: 0, body: null }));
    xhr.send(body instanceof FormData ? body : JSON.stringify(body));
  });
}

function items(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}

async function loadOptions() {
  try {
    const options = await getJSON("/v1/public/options");
    state.options = {
      categories: options.categories?.length ? options.categories : config.defaults.categories,
      platforms: options.platforms?.length ? options.platforms : config.defaults.platforms,
      limits: { ...config.defaults.limits, ...(options.limits || {}) },
    };
  } catch {
    state.options = config.defaults;
  }
}

async function loadAccounts() {
  try {
    state.accounts = items(await getJSON("/v1/public/accounts"));
  } catch {
    state.accounts = false;
  }
}

async function loadPolicies() {
  try {
    state.policies = items(await getJSON("/v1/public/policies"));
  } catch {
    state.policies = false;
  }
}

// --- form building blocks ---------------------------------------------------------------

function hint(id, key, args) {
  return h("p", { id, class: "cs-hint", text: key, args });
}

function errorSlot(id) {
  return h("p", { id, class: "cs-error", hidden: true });
}

function optionalMark() {
  return h("span", { class: "cs-optional", text: "app.optional" });
}

function field(name, labelKey, control, { hintKey, hintArgs, optional = false, extra = [] } = {}) {
  const id = `cs-${name}`;
  const describedBy = [];
  const label = h("label", { for: id, class: "cs-label" }, h("span", { text: labelKey }), optional ? " " : null,
    optional ? optionalMark() : null);
  const parts = [label];
  if (hintKey) {
    parts.push(hint(`${id}-hint`, hintKey, hintArgs));
    describedBy.push(`${id}-hint`);
  }
  parts.push(errorSlot(`${id}-error`));
  control.id = id;
  if (!control.name) control.name = name;
  for (const note of extra) {
    if (note.id && note.classList.contains("cs-hint") && !note.hidden) describedBy.push(note.id);
  }
  control.dataset.describedby = describedBy.join(" ");
  if (describedBy.length) control.setAttribute("aria-describedby", describedBy.join(" "));
  parts.push(control, ...extra);
  return h("div", { class: "cs-field", id: `${id}-field` }, parts);
}

function counter(textarea, max) {
  const out = h("p", { id: `${textarea.id}-count`, class: "cs-counter" });
  const spoken = h("span", { class: "cs-visually-hidden", "aria-live": "polite" });
  let timer = 0;
  const update = (speak) => {
    const used = textarea.value.length;
    const key = used > max ? "field.counter_over" : "field.counter";
    const args = used > max ? { over: used - max } : { used, max };
    setText(out, key, args);
    out.classList.toggle("cs-counter-over", used > max);
    if (speak) {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => setText(spoken, key, args), 1200);
    }
  };
  textarea.addEventListener("input", () => update(true));
  update(false);
  const ids = [textarea.dataset.describedby, out.id].filter(Boolean).join(" ");
  textarea.dataset.describedby = ids;
  textarea.setAttribute("aria-describedby", ids);
  return [out, spoken];
}

// --- errors: fields, summary, focus -----------------------------------------------------

function clearErrors(form) {
  const summary = form.querySelector(".cs-error-summary");
  summary.hidden = true;
  summary.querySelector("ul").replaceChildren();
  for (const slot of form.querySelectorAll(".cs-error")) {
    slot.hidden = true;
    slot.replaceChildren();
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const ids = el.dataset.describedby;
    if (ids) el.setAttribute("aria-describedby", ids);
    else el.removeAttribute("aria-describedby");
  }
  for (const el of form.querySelectorAll(".cs-field-error")) el.classList.remove("cs-field-error");
}

// errors: [{target: element id of the control (or null), key, args}]
function showErrors(form, errors) {
  clearErrors(form);
  const summary = form.querySelector(".cs-error-summary");
  const list = summary.querySelector("ul");
  for (const error of errors) {
    const control = error.target ? document.getElementById(error.target) : null;
    if (control) {
      const slotId = control.dataset.errorSlot || `${control.id}-error`;
      const slot = document.getElementById(slotId);
      if (slot) {
        slot.hidden = false;
        slot.append(h("span", { class: "cs-error-prefix", text: "errors.prefix" }), " ",
          h("span", { text: error.key, args: error.args }));
        slot.closest(".cs-field")?.classList.add("cs-field-error");
      }
      const owner = control.dataset.invalidOwner ? document.getElementById(control.dataset.invalidOwner) : control;
      owner.setAttribute("aria-invalid", "true");
      const ids = [slotId, owner.dataset.describedby].filter(Boolean).join(" ");
      owner.setAttribute("aria-describedby", ids);
      const link = h("a", { href: `#${control.id}`, text: error.key, args: error.args, on: {
        click: (event) => {
          event.preventDefault(); // no URL change
          control.focus();
        },
      } });
      list.append(h("li", {}, link));
    } else {
      list.append(h("li", { text: error.key, args: error.args }));
    }
  }
  summary.hidden = false;
  summary.focus();
  post({ type: "civicsocial:top" });
}

// One summary per form, its title id taken from the form's id: two forms on one view (the status
// form and the reply form) never share an id.
function errorSummary(owner) {
  const titleId = `${owner}-summary-title`;
  return h("div", { class: "cs-error-summary", tabindex: "-1", hidden: true, role: "alert", "aria-labelledby": titleId },
    h("h3", { id: titleId, text: "errors.summary_title" }),
    h("ul", {}));
}

const SERVER_ERROR_KEYS = {
  missing: "error.server.missing",
  url_parsing: "error.server.url",
  url_scheme: "error.server.url",
  url_type: "error.server.url",
  string_too_long: "error.server.too_long",
  too_long: "error.server.too_many",
  date_parsing: "error.server.date",
  date_from_datetime_parsing: "error.server.date",
  date_type: "error.server.date",
  enum: "error.server.choice",
  literal_error: "error.server.choice",
  value_error: "error.server.invalid",
  unsupported_media_type: "error.server.file_type",
};

// Maps a problem+json body to field errors. `locate(path)` turns a loc (without "body" and
// "report") into a control id, or null for a form-level problem.
// `describe(path)` may name what was refused (the file's name for an evidence error).
function problemErrors(status, body, locate, describe = () => null) {
  if (status === 0) return [{ target: null, key: "error.network" }];
  if (status === 429) return [{ target: null, key: "error.rate_limited" }];
  if (status === 413) return [{ target: locate(["evidence"]), key: "error.too_large" }];
  if (status >= 500) return [{ target: null, key: "error.unavailable" }];
  const found = [];
  for (const problem of body?.errors || []) {
    const path = (problem.loc || []).filter((part) => part !== "body" && part !== "report");
    const key = SERVER_ERROR_KEYS[problem.type] || "error.server.invalid";
    const args = describe(path);
    const named = args && CATALOGUES.en[`${key}_named`] ? `${key}_named` : null;
    found.push(named ? { target: locate(path), key: named, args } : { target: locate(path), key });
  }
  return found.length ? found : [{ target: null, key: "error.general" }];
}

// --- the views ----------------------------------------------------------------------------

function chrome() {
  return [
    h("div", { class: "cs-topbar" },
      h("h1", { class: "cs-title", text: "app.title" }),
      h("button", {
        type: "button", class: "cs-button cs-button-secondary cs-lang", id: "cs-lang-switch",
        text: "app.lang_switch", attrs: { lang: "app.lang_switch_code" },
        on: { click: () => switchLanguage(LANGS.find((code) => code !== state.lang)) },
      })),
    h("p", { id: "cs-announcer", class: "cs-visually-hidden", role: "status", "aria-live": "polite" }),
    h("div", { id: "cs-view" }),
  ];
}

function switchLanguage(code) {
  if (!CATALOGUES[code]) return;
  state.lang = code;
  document.documentElement.lang = code;
  document.title = t("app.title");
  translateAll(app);
  document.getElementById("cs-lang-switch").focus();
  announce("app.lang_changed");
  post({ type: "civicsocial:lang", lang: code });
}

function show(view, { focus = true } = {}) {
  const container = document.getElementById("cs-view");
  container.replaceChildren(view);
  if (focus) {
    const heading = view.querySelector("h2");
    heading?.setAttribute("tabindex", "-1");
    heading?.focus();
    post({ type: "civicsocial:top" });
  }
}

function backButton() {
  return h("button", { type: "button", class: "cs-button cs-button-secondary", text: "app.back",
    on: { click: () => { state.receipt = null; show(homeView()); } } });
}

function homeView() {
  const choice = (name, onClick) => h("li", {},
    h("button", { type: "button", class: "cs-choice", id: `cs-choose-${name}`, on: { click: onClick } },
      h("span", { class: "cs-choice-title", text: `home.${name}.title` }),
      h("span", { class: "cs-choice-desc", text: `home.${name}.desc` })));
  return h("section", { class: "cs-home", "aria-labelledby": "cs-home-heading" },
    h("h2", { id: "cs-home-heading", text: "home.heading" }),
    h("p", { text: "home.intro" }),
    h("ul", { class: "cs-choices" },
      choice("report", () => show(reportView())),
      choice("feedback", () => show(feedbackView())),
      choice("status", () => show(statusView()))));
}

// The privacy notice every form shows before its send button (short; the rest one click away).
function privacyNotice() {
  return h("div", { class: "cs-privacy" },
    h("h3", { text: "privacy.heading" }),
    h("p", { text: "privacy.short" }),
    h("details", {},
      h("summary", { text: "privacy.more" }),
      h("ul", {}, ["stored", "who", "email", "kept"].map((k) => h("li", { text: `privacy.${k}` })))));
}

// "Check your answers" (the GOV.UK pattern): once the form is valid, its answers are shown on
// their own; "Send" sends them, "Change" goes back to the form with everything kept.
// rows: [labelKey, {key} (words from the catalogue) or {data} (what the resident typed)].
function checkAnswers(form, rows, send) {
  const formView = form.closest("section");
  const back = () => {
    panel.remove();
    formView.hidden = false;
  };
  const panel = h("section", { class: "cs-check-answers", "aria-labelledby": "cs-check-heading" },
    h("h2", { id: "cs-check-heading", tabindex: "-1", text: "check.heading" }),
    h("p", { text: "check.intro" }),
    h("dl", { class: "cs-dl cs-check-list" }, rows.flatMap(([label, value]) => [
      h("dt", { text: label }), value.key ? h("dd", { text: value.key }) : h("dd", { data: value.data })])),
    h("div", { class: "cs-actions" },
      h("button", { type: "button", class: "cs-button", id: "cs-check-send", text: "check.send",
        on: { click: () => { back(); send(); } } }),
      h("button", { type: "button", class: "cs-button cs-button-secondary", id: "cs-check-change",
        text: "check.change", on: { click: () => { back(); form.querySelector("input, select, textarea")?.focus(); } } })));
  formView.hidden = true;
  formView.after(panel);
  panel.querySelector("h2").focus();
  post({ type: "civicsocial:top" });
}

// --- report a possible violation ---------------------------------------------------------

function accountLabel(account) {
  return `${account.department} · ${t(`platform.${account.platform}`)} · ${account.handle}`;
}

function reportView() {
  const limits = state.options.limits;
  const form = h("form", { class: "cs-form", novalidate: true, id: "cs-report-form" });

  // Account picker, with a free-text fallback.
  const accountSelect = h("select", { name: "account_id" },
    h("option", { value: "", text: "field.account.choose" }));
  const accountTextField = field("account_text", "field.account_text.label",
    h("input", { type: "text", maxlength: "300", autocomplete: "off" }), { hintKey: "field.account_text.hint" });
  const accountNote = h("p", { class: "cs-hint", id: "cs-account-note", hidden: true, text: "field.account.unavailable" });
  const fillAccounts = () => {
    if (state.accounts) {
      for (const account of state.accounts.filter((a) => !a.status || a.status === "active")) {
        const option = h("option", { value: account.id });
        option.textContent = accountLabel(account);
        option.dataset.platform = account.platform;
        accountSelect.append(option);
      }
    }
    accountSelect.append(h("option", { value: "__other", text: "field.account.other" }));
    if (state.accounts === false || (state.accounts && state.accounts.length === 0)) {
      accountNote.hidden = false;
      accountSelect.value = "__other";
      accountSelect.dataset.describedby = `${accountSelect.dataset.describedby} cs-account-note`.trim();
      accountSelect.setAttribute("aria-describedby", accountSelect.dataset.describedby);
    }
    accountTextField.hidden = accountSelect.value !== "__other";
  };
  accountSelect.addEventListener("change", () => {
    accountTextField.hidden = accountSelect.value !== "__other";
    const platform = accountSelect.selectedOptions[0]?.dataset.platform;
    if (platform) form.querySelector("#cs-platform").value = platform;
  });

  const platformSelect = h("select", {}, h("option", { value: "", text: "field.platform.choose" }),
    state.options.platforms.map((p) => h("option", { value: p, text: `platform.${p}` })));

  // Categories.
  const categories = h("fieldset", { class: "cs-fieldset", id: "cs-categories", "aria-describedby": "cs-categories-hint" },
    h("legend", { class: "cs-label", text: "field.categories.legend" }),
    hint("cs-categories-hint", "field.categories.hint"),
    errorSlot("cs-categories-error"),
    h("div", { class: "cs-checks" }, state.options.categories.map((c, i) => h("div", { class: "cs-check" },
      h("input", { type: "checkbox", name: "categories", value: c.key, id: `cs-category-${i}`,
        "data-error-slot": "cs-categories-error", "data-invalid-owner": "cs-categories" }),
      h("label", { for: `cs-category-${i}`, text: `category.${c.key}` })))));
  categories.dataset.describedby = "cs-categories-hint";

  // Links: add/remove, bounded.
  const linkList = h("ol", { class: "cs-links", id: "cs-links-list" });
  const addLink = h("button", { type: "button", class: "cs-button cs-button-secondary", id: "cs-add-link",
    text: "field.links.add" });
  const maxNote = h("p", { class: "cs-hint", hidden: true, text: "field.links.max", args: { max: limits.max_links } });
  const renumberLinks = () => {
    const rows = [...linkList.children];
    rows.forEach((row, i) => {
      const n = i + 1;
      const input = row.querySelector("input");
      const label = row.querySelector("label");
      const error = row.querySelector(".cs-error");
      input.id = `cs-link-${i}`;
      label.setAttribute("for", input.id);
      error.id = `cs-link-${i}-error`;
      setText(label, "field.links.item", { n });
      const remove = row.querySelector("button");
      remove.hidden = rows.length === 1;
      remove.dataset.i18nArgs = JSON.stringify({ n });
      translate(remove);
    });
    addLink.hidden = rows.length >= limits.max_links;
    maxNote.hidden = rows.length < limits.max_links;
  };
  const newLinkRow = () => {
    const row = h("li", { class: "cs-link-row cs-field" },
      h("label", { class: "cs-label-inline" }),
      errorSlot(""),
      h("div", { class: "cs-row" },
        h("input", { type: "url", inputmode: "url", name: "links", autocomplete: "off", spellcheck: "false",
          "aria-describedby": "cs-links-hint", "data-describedby": "cs-links-hint" }),
        h("button", { type: "button", class: "cs-button cs-button-secondary cs-remove", text: "field.links.remove_short",
          attrs: { "aria-label": "field.links.remove" } })));
    row.querySelector("button").addEventListener("click", () => {
      const index = [...linkList.children].indexOf(row);
      row.remove();
      renumberLinks();
      const inputs = linkList.querySelectorAll("input");
      inputs[Math.max(0, index - 1)]?.focus();
      announce("field.links.removed");
    });
    return row;
  };
  addLink.addEventListener("click", () => {
    if (linkList.children.length >= limits.max_links) return;
    linkList.append(newLinkRow());
    renumberLinks();
    linkList.lastElementChild.querySelector("input").focus();
    announce("field.links.added", { n: linkList.children.length });
  });
  linkList.append(newLinkRow());
  const links = h("fieldset", { class: "cs-fieldset", id: "cs-links" },
    h("legend", { class: "cs-label" }, h("span", { text: "field.links.legend" }), " ", optionalMark()),
    hint("cs-links-hint", "field.links.hint", { max: limits.max_links }),
    linkList, addLink, maxNote);
  renumberLinks();

  const today = new Date();
  const todayIso = new Date(today.getTime() - today.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  const seenOn = h("input", { type: "date", max: todayIso });

  const description = h("textarea", { rows: "6", spellcheck: "true" });
  const descriptionField = field("description", "field.description.label", description,
    { hintKey: "field.description.hint" });
  descriptionField.append(...counter(description, limits.max_description));

  // Evidence upload.
  const files = h("input", { type: "file", multiple: true, accept: limits.allowed_types.join(",") });
  const fileList = h("ul", { class: "cs-files", id: "cs-evidence-list" });
  files.addEventListener("change", () => {
    fileList.replaceChildren(...[...files.files].map((file) => {
      const size = h("span", { "data-bytes": String(file.size) });
      translate(size);
      return h("li", {}, h("span", { data: file.name }), " (", size, ")");
    }));
  });
  const mb = Math.round(limits.max_file_bytes / (1024 * 1024));

  const email = h("input", { type: "email", autocomplete: "email", spellcheck: "false" });
  // Reporter updates (issue 17): sent only with an email; the email says only that there is an update.
  const notify = h("input", { type: "checkbox", name: "notify_updates", value: "true", id: "cs-notify_updates",
    "aria-describedby": "cs-notify_updates-hint" });
  const notifyField = h("div", { class: "cs-field", id: "cs-notify_updates-field" },
    h("div", { class: "cs-check" }, notify, h("label", { for: "cs-notify_updates", text: "field.notify_updates.label" })),
    hint("cs-notify_updates-hint", "field.notify_updates.hint"));
  const progressBar = h("progress", { id: "cs-progress-bar", max: "100", value: "0" });
  const progressText = h("span", { id: "cs-progress-text" });
  const progress = h("div", { class: "cs-progress", hidden: true },
    h("label", { for: "cs-progress-bar", text: "progress.label" }), progressBar, progressText);
  const submit = h("button", { type: "submit", class: "cs-button", id: "cs-report-submit", text: "report.submit" });

  form.append(
    errorSummary("cs-report-form"),
    field("account", "field.account.label", accountSelect, { hintKey: "field.account.hint", extra: [accountNote] }),
    accountTextField,
    field("platform", "field.platform.label", platformSelect),
    categories,
    links,
    field("seen_on", "field.seen_on.label", seenOn, { hintKey: "field.seen_on.hint", optional: true }),
    descriptionField,
    field("evidence", "field.evidence.label", files,
      { hintKey: "field.evidence.hint", hintArgs: { files: limits.max_files, mb }, optional: true, extra: [fileList] }),
    field("contact_email", "field.email.label", email, { hintKey: "field.email.hint", optional: true }),
    notifyField,
    progress,
    privacyNotice(),
    h("div", { class: "cs-actions" }, submit, backButton()),
  );
  fillAccounts();

  const locate = (path) => {
    const [name, index] = path;
    if (name === "links") return index !== undefined ? `cs-link-${index}` : "cs-link-0";
    if (name === "categories") return "cs-category-0";
    if (name === "evidence") return "cs-evidence";
    if (name === "account_id") return "cs-account";
    const known = { account_text: "cs-account_text", platform: "cs-platform", seen_on: "cs-seen_on",
      description: "cs-description", contact_email: "cs-contact_email" };
    if (name === "account_text" && accountTextField.hidden) return "cs-account";
    return known[name] || null;
  };

  let busy = false;
  let confirmed = false; // the resident has checked the answers (checkAnswers)
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const errors = [];
    const report = { platform: platformSelect.value, links: [], categories: [], description: description.value.trim() };
    if (accountSelect.value === "__other") {
      report.account_text = form.querySelector("#cs-account_text").value.trim();
      if (!report.account_text) errors.push({ target: "cs-account_text", key: "error.account_text_required" });
    } else if (accountSelect.value) {
      report.account_id = accountSelect.value;
    } else {
      errors.push({ target: "cs-account", key: "error.account_required" });
    }
    if (!report.platform) errors.push({ target: "cs-platform", key: "error.platform_required" });
    report.categories = [...form.querySelectorAll("input[name=categories]:checked")].map((c) => c.value);
    if (!report.categories.length) errors.push({ target: "cs-category-0", key: "error.categories_required" });
    [...linkList.querySelectorAll("input")].forEach((input, i) => {
      const value = input.value.trim();
      if (!value) return;
      let ok = false;
      try {
        ok = ["http:", "https:"].includes(new URL(value).protocol);
      } catch {
        ok = false;
      }
      if (ok) report.links.push(value);
      else errors.push({ target: input.id, key: "error.link_invalid", args: { n: i + 1 } });
    });
    if (seenOn.value) {
      if (seenOn.value > todayIso) errors.push({ target: "cs-seen_on", key: "error.seen_on_future" });
      else report.seen_on = seenOn.value;
    }
    if (!report.description) errors.push({ target: "cs-description", key: "error.description_required" });
    else if (report.description.length > limits.max_description) {
      errors.push({ target: "cs-description", key: "error.too_long", args: { max: limits.max_description } });
    }
    const chosen = [...files.files];
    if (chosen.length > limits.max_files) {
      errors.push({ target: "cs-evidence", key: "error.too_many_files", args: { max: limits.max_files } });
    }
    for (const file of chosen) {
      if (file.size > limits.max_file_bytes) {
        errors.push({ target: "cs-evidence", key: "error.file_too_big", args: { name: file.name, mb } });
      } else if (!limits.allowed_types.includes(file.type)) {
        errors.push({ target: "cs-evidence", key: "error.file_type", args: { name: file.name } });
      }
    }
    const contact = email.value.trim();
    if (contact) {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(contact)) errors.push({ target: "cs-contact_email", key: "error.email_invalid" });
      else report.contact_email = contact;
    }
    if (report.contact_email && notify.checked) report.notify_updates = true;
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    if (!confirmed) {
      const option = accountSelect.selectedOptions[0];
      checkAnswers(form, [
        ["field.account.label", report.account_text ? { data: report.account_text } : { data: option?.textContent || "" }],
        ["field.platform.label", { key: `platform.${report.platform}` }],
        ["field.categories.legend", { data: report.categories.map((c) => t(`category.${c}`)).join("; ") }],
        ...(report.links.length ? [["field.links.legend", { data: report.links.join(" ") }]] : []),
        ...(report.seen_on ? [["field.seen_on.label", { data: formatDate(report.seen_on) }]] : []),
        ["field.description.label", { data: report.description }],
        ...(chosen.length ? [["field.evidence.label", { data: chosen.map((f) => f.name).join(", ") }]] : []),
        ...(report.contact_email ? [["field.email.label", { data: report.contact_email }]] : []),
      ], () => { confirmed = true; form.requestSubmit(); });
      return;
    }
    confirmed = false;
    busy = true;
    form.setAttribute("aria-busy", "true");
    let body = report;
    let onProgress = null;
    if (chosen.length) {
      body = new FormData();
      body.append("report", JSON.stringify(report));
      for (const file of chosen) body.append("evidence", file, file.name);
      progress.hidden = false;
      onProgress = (percent) => {
        progressBar.value = percent;
        setText(progressText, "progress.value", { percent });
      };
      onProgress(0);
    }
    announce("report.sending");
    const result = await send("/v1/reports", body, onProgress);
    busy = false;
    form.removeAttribute("aria-busy");
    progress.hidden = true;
    if (result.status === 201 && result.body?.receipt) {
      show(confirmationView(result.body));
    } else {
      const named = ([name, index]) => (name === "evidence" && Number.isInteger(index) && chosen[index]
        ? { name: chosen[index].name } : null);
      showErrors(form, problemErrors(result.status, result.body, locate, named));
    }
  });
  return h("section", { class: "cs-report", "aria-labelledby": "cs-report-heading" },
    h("h2", { id: "cs-report-heading", text: "report.heading" }),
    h("p", { text: "report.intro" }),
    form);
}

// --- feedback on a policy ----------------------------------------------------------------

function policyTitle(policy) {
  return policy.title || policy.name || policy.id;
}

function policyVersion(policy) {
  return policy.current_version_id || policy.version_id || policy.current_version?.id || null;
}

function policySections(policy) {
  return policy.sections || policy.current_version?.sections || [];
}

function feedbackView() {
  const limits = state.options.limits;
  const form = h("form", { class: "cs-form", novalidate: true, id: "cs-feedback-form" });
  const policies = state.policies || [];
  const policySelect = h("select", {}, h("option", { value: "", text: "field.policy.choose" }),
    policies.map((p) => {
      const option = h("option", { value: p.id });
      option.textContent = policyTitle(p);
      return option;
    }));
  const sectionSelect = h("select", {}, h("option", { value: "", text: "field.section.any" }));
  policySelect.addEventListener("change", () => {
    const policy = policies.find((p) => p.id === policySelect.value);
    sectionSelect.replaceChildren(h("option", { value: "", text: "field.section.any" }),
      ...(policy ? policySections(policy) : []).map((s) => {
        const option = h("option", { value: s.id });
        option.textContent = s.heading || s.id;
        return option;
      }));
  });
  const rating = h("fieldset", { class: "cs-fieldset", id: "cs-rating" },
    h("legend", { class: "cs-label" }, h("span", { text: "field.rating.legend" }), " ", optionalMark()),
    h("div", { class: "cs-checks cs-rating" }, [1, 2, 3, 4, 5].map((n) => h("div", { class: "cs-check" },
      h("input", { type: "radio", name: "rating", value: String(n), id: `cs-rating-${n}` }),
      h("label", { for: `cs-rating-${n}`, text: `rating.${n}` })))));
  const text = h("textarea", { rows: "6", spellcheck: "true" });
  const textField = field("text", "field.text.label", text, { hintKey: "field.text.hint" });
  textField.append(...counter(text, limits.max_description));
  const email = h("input", { type: "email", autocomplete: "email", spellcheck: "false" });

  form.append(
    errorSummary("cs-feedback-form"),
    field("policy", "field.policy.label", policySelect, {
      extra: state.policies === false || !policies.length
        ? [h("p", { class: "cs-hint", id: "cs-policy-note", text: "field.policy.unavailable" })] : [],
    }),
    field("section", "field.section.label", sectionSelect, { optional: true }),
    rating,
    textField,
    field("contact_email", "field.email.label", email, { hintKey: "field.email.hint", optional: true }),
    privacyNotice(),
    h("div", { class: "cs-actions" },
      h("button", { type: "submit", class: "cs-button", id: "cs-feedback-submit", text: "feedback.submit" }),
      backButton()),
  );
  const locate = ([name]) => ({ policy_id: "cs-policy", version_id: "cs-policy", section_id: "cs-section",
    rating: "cs-rating-1", text: "cs-text", contact_email: "cs-contact_email" }[name] || null);

  let busy = false;
  let confirmed = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const errors = [];
    const policy = policies.find((p) => p.id === policySelect.value);
    const body = { text: text.value.trim() };
    if (!policy) errors.push({ target: "cs-policy", key: "error.policy_required" });
    else {
      body.policy_id = policy.id;
      body.version_id = policyVersion(policy);
    }
    if (sectionSelect.value) body.section_id = sectionSelect.value;
    const checked = form.querySelector("input[name=rating]:checked");
    if (checked) body.rating = Number(checked.value);
    if (!body.text) errors.push({ target: "cs-text", key: "error.text_required" });
    else if (body.text.length > limits.max_description) {
      errors.push({ target: "cs-text", key: "error.too_long", args: { max: limits.max_description } });
    }
    const contact = email.value.trim();
    if (contact) {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(contact)) errors.push({ target: "cs-contact_email", key: "error.email_invalid" });
      else body.contact_email = contact;
    }
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    if (!confirmed) {
      const section = sectionSelect.selectedOptions[0];
      checkAnswers(form, [
        ["field.policy.label", { data: policyTitle(policy) }],
        ["field.section.label", body.section_id ? { data: section?.textContent || "" } : { key: "field.section.any" }],
        ...(body.rating ? [["field.rating.legend", { key: `rating.${body.rating}` }]] : []),
        ["field.text.label", { data: body.text }],
        ...(body.contact_email ? [["field.email.label", { data: body.contact_email }]] : []),
      ], () => { confirmed = true; form.requestSubmit(); });
      return;
    }
    confirmed = false;
    busy = true;
    form.setAttribute("aria-busy", "true");
    announce("feedback.sending");
    const result = await send("/v1/feedback", body);
    busy = false;
    form.removeAttribute("aria-busy");
    if (result.status === 201 && result.body?.receipt) show(confirmationView(result.body));
    else showErrors(form, problemErrors(result.status, result.body, locate));
  });
  return h("section", { class: "cs-feedback", "aria-labelledby": "cs-feedback-heading" },
    h("h2", { id: "cs-feedback-heading", text: "feedback.heading" }),
    h("p", { text: "feedback.intro" }),
    form);
}

// --- confirmation: the receipt, shown once ------------------------------------------------

function groupDigits(code) {
  return String(code).replace(/\s+/g, "").match(/.{1,4}/g) || [];
}

// The receipt is text, not an input: its groups of four digits wrap onto the next line at any
// width (320 px, 400% zoom, the narrowest embed) instead of being clipped inside a field.
function receiptCode(receipt) {
  const groups = groupDigits(receipt);
  const code = h("p", { id: "cs-receipt-code", class: "cs-receipt-code", "aria-describedby": "cs-receipt-what" });
  groups.forEach((group, i) => {
    if (i) code.append(" ");
    code.append(h("span", { class: "cs-receipt-group", data: group }));
  });
  return code;
}

function confirmationView(result) {
  const kind = result.kind === "policy_feedback" ? "feedback" : "report";
  const code = receiptCode(result.receipt);
  const copyStatus = h("p", { id: "cs-copy-status", class: "cs-hint", role: "status" });
  const copy = async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(code.textContent);
      copied = true;
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      copied = document.execCommand?.("copy") || false;
    }
    setText(copyStatus, copied ? "confirm.copied" : "confirm.copy_failed");
  };
  const view = h("section", { class: "cs-confirmation", "aria-labelledby": "cs-confirm-heading" },
    h("h2", { id: "cs-confirm-heading", text: `confirm.heading.${kind}` }),
    h("div", { class: "cs-reference-box" },
      h("p", {}, h("span", { text: "confirm.reference" }), " ",
        h("strong", { id: "cs-reference", class: "cs-reference", data: result.reference })),
      h("p", { class: "cs-hint", id: "cs-reference-what", text: "confirm.reference_what" })),
    h("div", { class: "cs-receipt" },
      h("h3", { class: "cs-label", id: "cs-receipt-label", text: "confirm.receipt_label" }),
      code,
      h("p", { class: "cs-hint", id: "cs-receipt-what", text: "confirm.receipt_what" }),
      h("div", { class: "cs-actions cs-receipt-actions" },
        h("button", { type: "button", class: "cs-button", id: "cs-copy", text: "confirm.copy", on: { click: copy } }),
        h("button", { type: "button", class: "cs-button cs-button-secondary", id: "cs-print", text: "confirm.print",
          on: { click: () => window.print() } })),
      copyStatus),
    h("div", { class: "cs-advice" },
      h("h3", { text: "confirm.keep_heading" }),
      h("ul", {},
        h("li", { id: "cs-keep-once", text: "confirm.keep.once" }),
        h("li", { text: "confirm.keep.private" }),
        h("li", { text: "confirm.keep.lost" }))),
    nextSteps(kind),
    h("div", { class: "cs-actions" },
      h("button", { type: "button", class: "cs-button", id: "cs-go-status", text: "confirm.check",
        on: { click: () => show(statusView()) } }),
      h("button", { type: "button", class: "cs-button cs-button-secondary", text: "confirm.again",
        on: { click: () => show(homeView()) } })));
  return view;
}

function nextSteps(kind) {
  return h("div", { class: "cs-next", id: "cs-next" },
    h("h3", { text: "next.heading" }),
    h("ol", {},
      h("li", { text: `next.${kind}.received` }),
      h("li", { text: `next.${kind}.review` }),
      h("li", { text: `next.${kind}.closed` })),
    h("p", { text: "next.follow_up" }));
}

// --- check my report ------------------------------------------------------------------------

function statusView() {
  const form = h("form", { class: "cs-form", novalidate: true, id: "cs-status-form" });
  const receipt = h("input", { type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false",
    maxlength: "24" });
  const result = h("div", { id: "cs-status-result" });
  form.append(
    errorSummary("cs-status-form"),
    field("receipt", "field.receipt.label", receipt, { hintKey: "field.receipt.hint" }),
    h("div", { class: "cs-actions" },
      h("button", { type: "submit", class: "cs-button", id: "cs-status-submit", text: "status.submit" }),
      backButton()),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const digits = receipt.value.replace(/[\s-]+/g, "");
    if (!/^[0-9]{16}$/.test(digits)) {
      showErrors(form, [{ target: "cs-receipt", key: "error.receipt_format" }]);
      return;
    }
    const response = await send("/v1/receipts/status", { receipt: digits });
    if (response.status === 200 && response.body) {
      clearErrors(form);
      state.receipt = digits;
      receipt.value = "";
      renderStatus(result, response.body);
      const heading = result.querySelector("h3");
      heading.setAttribute("tabindex", "-1");
      heading.focus();
      announce("status.loaded");
    } else if (response.status === 404) {
      result.replaceChildren();
      showErrors(form, [{ target: "cs-receipt", key: "error.receipt_not_found" }]);
    } else {
      showErrors(form, problemErrors(response.status, response.body, () => "cs-receipt"));
    }
  });
  return h("section", { class: "cs-status", "aria-labelledby": "cs-status-heading" },
    h("h2", { id: "cs-status-heading", text: "status.heading" }),
    h("p", { text: "status.intro" }),
    form,
    result);
}

// `notice`: the outcome of what the reporter just did ("message sent", "email erased"), written
// on the page as well as announced.
async function refreshStatus(container, notice) {
  const response = await send("/v1/receipts/status", { receipt: state.receipt });
  if (response.status === 200 && response.body) renderStatus(container, response.body, notice);
}

function renderStatus(container, status, notice = null) {
  const messages = status.messages || [];
  const reply = h("textarea", { rows: "4" });
  const replyForm = h("form", { class: "cs-form", novalidate: true, id: "cs-reply-form" },
    errorSummary("cs-reply-form"),
    field("reply", "status.reply_label", reply, { hintKey: "status.reply_hint" }),
    h("div", { class: "cs-actions" },
      h("button", { type: "submit", class: "cs-button", id: "cs-reply-submit", text: "status.reply_submit" })));
  replyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = reply.value.trim();
    if (!body) {
      showErrors(replyForm, [{ target: "cs-reply", key: "error.message_required" }]);
      return;
    }
    const response = await send("/v1/receipts/messages", { receipt: state.receipt, body });
    if (response.status === 201 || response.status === 200 || response.status === 202) {
      await refreshStatus(container, "status.reply_sent");
      document.getElementById("cs-messages-heading")?.focus();
      announce("status.reply_sent");
    } else {
      showErrors(replyForm, problemErrors(response.status, response.body, () => "cs-reply"));
    }
  });
  const erase = status.has_contact ? h("div", { class: "cs-contact" },
    h("p", { text: "status.contact_on" }),
    h("button", { type: "button", class: "cs-button cs-button-secondary", id: "cs-erase-contact",
      text: "status.erase_contact", on: { click: async () => {
        const response = await send("/v1/receipts/contact/delete", { receipt: state.receipt });
        if (response.status === 204 || response.status === 200) {
          await refreshStatus(container, "status.contact_erased");
          document.getElementById("cs-status-result-heading")?.focus();
          announce("status.contact_erased");
        } else {
          showErrors(replyForm, problemErrors(response.status, response.body, () => null));
        }
      } } })) : null;

  container.replaceChildren(h("div", { class: "cs-status-card" },
    h("h3", { id: "cs-status-result-heading", tabindex: "-1", text: "status.result_heading",
      args: { reference: status.reference } }),
    notice ? h("p", { class: "cs-notice", id: "cs-status-notice", text: notice }) : null,
    h("dl", { class: "cs-dl" },
      h("dt", { text: "status.kind_label" }), h("dd", { text: `status.kind.${status.kind}` }),
      h("dt", { text: "status.status_label" }),
      h("dd", {}, h("strong", { id: "cs-status-value", text: `status.value.${status.status}` }),
        h("span", { class: "cs-hint cs-status-means", text: `status.means.${status.status}` })),
      status.outcome_summary ? [h("dt", { text: "status.outcome_label" }), h("dd", { data: status.outcome_summary })] : []),
    h("h4", { id: "cs-messages-heading", tabindex: "-1", text: "status.messages_heading" }),
    messages.length
      ? h("ol", { class: "cs-messages" }, messages.map((m) => h("li", { class: `cs-message cs-message-${m.from}` },
        h("p", { class: "cs-message-meta" },
          h("strong", { text: `status.from.${m.from}` }), " · ", h("span", { "data-date": m.on })),
        h("p", { class: "cs-message-body", data: m.body }))))
      : h("p", { text: "status.no_messages" }),
    replyForm,
    erase,
    h("div", { class: "cs-actions" },
      h("button", { type: "button", class: "cs-button cs-button-secondary", text: "status.done",
        on: { click: () => { state.receipt = null; show(homeView()); } } }))));
  translateAll(container);
}

// --- start -----------------------------------------------------------------------------------

async function start() {
  app.replaceChildren(...chrome());
  show(h("p", { class: "cs-hint", text: "app.loading" }), { focus: false });
  watchSize();
  post({ type: "civicsocial:ready" });
  await Promise.all([loadOptions(), loadAccounts(), loadPolicies()]);
  show(homeView(), { focus: false });
  document.documentElement.classList.add("cs-ready");
}

start();
