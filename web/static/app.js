/* caqmail's web page: compose, the history of a record, the outbox.
 * Everything the server sends is shown as text (textContent), never as
 * markup. */
"use strict";

const TEXTS = {
  en: {
    compose: "Compose", history: "History", outbox: "Outbox",
    logout: "Sign out", signIn: "Sign in", login: "Login",
    password: "Password", newMail: "New mail", to: "To", cc: "Cc",
    bcc: "Bcc", copyToMe: "Send a copy to me", subject: "Subject",
    text: "Text", attachments: "Attachments", upload: "Upload files",
    fromStore: "Add a document from the store", record: "Record",
    send: "Send", show: "Show", reload: "Reload", sender: "Sender",
    state: "State", lastError: "Last error", asPdf: "as PDF",
    remove: "Remove", person: "person", contact: "contact",
    department: "department", list: "list", members: "members",
    address: "address", retry: "Retry", cancel: "Cancel",
    raw: "Message (.eml)", noMails: "No mails for this record.",
    preparing: "Preparing…", converting: "Converting to PDF",
    queued: "Queued", sending: "Sending…", sent: "Sent",
    "partly-sent": "Partly sent", deferred: "Deferred – will be retried",
    failed: "Failed", uncertain: "Uncertain", cancelled: "Cancelled",
    error: "Error", accepted: "accepted", rejected: "rejected",
    pending: "pending", uploading: "Uploading",
  },
  de: {
    compose: "Verfassen", history: "Historie", outbox: "Postausgang",
    logout: "Abmelden", signIn: "Anmelden", login: "Benutzer",
    password: "Passwort", newMail: "Neue Mail", to: "An", cc: "Cc",
    bcc: "Bcc", copyToMe: "Kopie an mich", subject: "Betreff",
    text: "Text", attachments: "Anhänge", upload: "Dateien hochladen",
    fromStore: "Dokument aus der Ablage hinzufügen", record: "Vorgang",
    send: "Senden", show: "Anzeigen", reload: "Neu laden",
    sender: "Absender", state: "Status", lastError: "Letzter Fehler",
    asPdf: "als PDF", remove: "Entfernen", person: "Person",
    contact: "Kontakt", department: "Abteilung", list: "Verteiler",
    members: "Mitglieder", address: "Adresse", retry: "Erneut senden",
    cancel: "Abbrechen", raw: "Nachricht (.eml)",
    noMails: "Keine Mails zu diesem Vorgang.", preparing: "Vorbereitung…",
    converting: "Umwandlung in PDF", queued: "Eingereiht",
    sending: "Wird gesendet…", sent: "Gesendet",
    "partly-sent": "Teilweise gesendet",
    deferred: "Zurückgestellt – wird erneut versucht",
    failed: "Fehlgeschlagen", uncertain: "Ungewiss",
    cancelled: "Abgebrochen", error: "Fehler", accepted: "angenommen",
    rejected: "abgelehnt", pending: "ausstehend", uploading: "Hochladen",
  },
};

const state = { me: null, csrf: null, lang: "en", uploads: [] };

function t(key) {
  return (TEXTS[state.lang] && TEXTS[state.lang][key]) || TEXTS.en[key] ||
    key;
}

function $(id) { return document.getElementById(id); }

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.entries(props || {}).forEach(([k, v]) => {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  });
  children.forEach((c) => node.append(c));
  return node;
}

function translate() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach((n) => {
    n.textContent = t(n.dataset.t);
  });
  document.querySelectorAll("[data-tp]").forEach((n) => {
    n.placeholder = t(n.dataset.tp);
  });
}

async function api(method, path, body, raw) {
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = state.csrf || "";
  let payload;
  if (raw) {
    payload = body;
    headers["Content-Type"] = "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, {
    method, headers, body: payload, credentials: "same-origin",
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(data.error || res.statusText);
    err.status = res.status;
    throw err;
  }
  return data;
}

function show(view) {
  ["login", "compose", "history", "outbox"].forEach((v) => {
    $(v + "-view").hidden = v !== view;
    const b = $("nav-" + v);
    if (b) b.classList.toggle("active", v === view);
  });
  if (view === "outbox") loadOutbox();
}

function signedIn(me) {
  state.me = me;
  state.csrf = me.csrf;
  const browser = (navigator.language || "en").slice(0, 2);
  state.lang = (me.language || browser).slice(0, 2) === "de" ? "de" : "en";
  translate();
  $("nav").hidden = false;
  $("who").textContent = me.name || me.login;
  $("nav-outbox").hidden = !me.permissions.includes("administer");
  show("compose");
}

/* --- autocomplete ------------------------------------------------- */

function suggest(input, list, fetcher, render, pick) {
  let timer = null;
  let items = [];
  let selected = -1;
  const close = () => { list.hidden = true; list.replaceChildren(); };
  const mark = () => [...list.children].forEach((li, i) =>
    li.classList.toggle("selected", i === selected));
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 1) { close(); return; }
    timer = setTimeout(async () => {
      try { items = await fetcher(q); } catch (e) { items = []; }
      if (input.value.trim() !== q) return;
      list.replaceChildren(...items.map((it) => el("li", {
        onmousedown: (ev) => { ev.preventDefault(); pick(it); close(); },
      }, ...render(it))));
      selected = items.length ? 0 : -1;
      mark();
      list.hidden = items.length === 0;
    }, 150);
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" && items.length) {
      selected = (selected + 1) % items.length; mark(); ev.preventDefault();
    } else if (ev.key === "ArrowUp" && items.length) {
      selected = (selected + items.length - 1) % items.length; mark();
      ev.preventDefault();
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (!list.hidden && selected >= 0) { pick(items[selected]); close(); }
      else if (input.value.includes("@")) {
        pick({ ref: input.value.trim(), kind: "address",
               name: input.value.trim() });
        close();
      }
    } else if (ev.key === "Escape") close();
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
}

function entryParts(e) {
  const parts = [el("span", { class: "kind", text: t(e.kind) }),
                 el("span", { class: "name", text: e.name || e.ref })];
  if (e.kind === "list")
    parts.push(el("span", { class: "detail",
                            text: e.members + " " + t("members") }));
  else if (e.email)
    parts.push(el("span", { class: "detail", text: e.email }));
  if (e.detail && e.kind !== "list")
    parts.push(el("span", { class: "detail", text: e.detail }));
  return parts;
}

function setupChips(id) {
  const box = $(id);
  const input = box.querySelector("input");
  box.chips = [];
  const add = (e) => {
    if (box.chips.includes(e.ref)) return;
    box.chips.push(e.ref);
    const chip = el("span", { class: "chip", "data-ref": e.ref },
      el("span", { text: e.name || e.ref }),
      el("span", { class: "kind", text: t(e.kind) +
        (e.kind === "list" ? " · " + e.members : "") }));
    chip.append(el("button", { type: "button", title: t("remove"),
      text: "×", onclick: () => {
        box.chips = box.chips.filter((r) => r !== e.ref); chip.remove();
      } }));
    box.insertBefore(chip, input);
    input.value = "";
  };
  suggest(input, box.querySelector(".suggest"),
    (q) => api("GET", "/api/catalog?limit=8&q=" + encodeURIComponent(q)),
    entryParts, add);
}

/* --- attachments -------------------------------------------------- */

function addAttachmentRow(item) {
  state.uploads.push(item);
  const pdf = el("input", { type: "checkbox", class: "as-pdf" });
  pdf.addEventListener("change", () => { item.pdf = pdf.checked; });
  const row = el("li", { "data-name": item.label },
    el("span", { text: item.label }),
    el("label", {}, pdf, el("span", { text: t("asPdf") })));
  row.append(el("button", { type: "button", text: t("remove"), onclick: () => {
    state.uploads = state.uploads.filter((u) => u !== item); row.remove();
  } }));
  $("attachments").append(row);
}

async function uploadFiles() {
  const files = [...$("file").files];
  for (const f of files) {
    $("send-status").textContent = t("uploading") + " " + f.name;
    try {
      const up = await api("POST", "/api/uploads?name=" +
        encodeURIComponent(f.name), f, true);
      addAttachmentRow({ upload: up.id, label: up.name, pdf: false });
      $("send-status").textContent = "";
    } catch (e) {
      $("send-status").textContent = f.name + ": " + e.message;
    }
  }
  $("file").value = "";
}

/* --- sending ------------------------------------------------------ */

function collect() {
  return {
    to: $("to").chips, cc: $("cc").chips, bcc: $("bcc").chips,
    copy_to_me: $("copy-to-me").checked,
    subject: $("subject").value, text: $("body").value,
    record: $("record").value.trim() || null,
    attachments: state.uploads.map((u) => (u.upload
      ? { upload: u.upload, pdf: u.pdf }
      : { document: u.document, pdf: u.pdf })),
  };
}

function progressText(job) {
  let text = t(job.state);
  if (job.state === "converting") text += " (" + (job.done + 1) + "/" +
    job.total + ")";
  if (job.mail) text += " – #" + job.mail;
  if (job.error) text += ": " + job.error;
  return text;
}

async function follow(id) {
  for (;;) {
    const job = await api("GET", "/api/jobs/" + id);
    $("send-status").textContent = progressText(job);
    $("send-status").dataset.state = job.state;
    if (job.finished) return job;
    await new Promise((r) => setTimeout(r, 400));
  }
}

async function send() {
  $("send").disabled = true;
  $("send-status").dataset.state = "";
  try {
    const started = await api("POST", "/api/send", collect());
    const job = await follow(started.job);
    if (job.mail && $("record").value.trim()) {
      $("history-record").value = $("record").value.trim();
    }
  } catch (e) {
    $("send-status").textContent = t("error") + ": " + e.message;
    $("send-status").dataset.state = "error";
  } finally {
    $("send").disabled = false;
  }
}

/* --- history ------------------------------------------------------ */

function replyText(r) {
  const reply = r.reply || "";
  if (!r.code || reply.startsWith(String(r.code))) return reply;
  return r.code + " " + reply;
}

function rcptTable(rcpts) {
  return el("table", { class: "rcpts" }, el("tbody", {},
    ...rcpts.map((r) => el("tr", { class: "rcpt", "data-address": r.address },
      el("td", { text: r.kind }),
      el("td", { text: r.display || r.address }),
      el("td", { class: "status state-" + r.status, text: t(r.status) }),
      el("td", { text: replyText(r) })))));
}

async function mailCard(m) {
  const card = el("article", { class: "mail", "data-id": String(m.id) },
    el("h3", { text: m.subject || "—" }),
    el("p", {},
      el("span", { class: "state state-" + m.state, text: t(m.state) }),
      " · " + new Date(m.created * 1000).toLocaleString(state.lang) +
      " · " + m.sender));
  card.append(rcptTable(m.recipients || []));
  const detail = await api("GET", "/api/mails/" + m.id);
  card.append(el("pre", { class: "text", text: detail.text }));
  const links = el("ul", { class: "files" });
  detail.attachments.forEach((a) => links.append(el("li", {},
    el("a", { href: "/api/mails/" + m.id + "/attachments/" + a.index,
              download: a.filename, text: a.filename }),
    " (" + a.size + " B)")));
  links.append(el("li", {}, el("a", { href: "/api/mails/" + m.id + "/raw",
    download: "mail-" + m.id + ".eml", text: t("raw") })));
  card.append(links);
  return card;
}

async function loadHistory(ev) {
  if (ev) ev.preventDefault();
  const record = $("history-record").value.trim();
  $("history-error").textContent = "";
  $("mails").replaceChildren();
  if (!record) return;
  try {
    const mails = await api("GET", "/api/records/" +
      encodeURIComponent(record) + "/mails");
    if (!mails.length)
      $("mails").append(el("p", { class: "empty", text: t("noMails") }));
    for (const m of mails) $("mails").append(await mailCard(m));
  } catch (e) {
    $("history-error").textContent = e.message;
  }
}

/* --- outbox ------------------------------------------------------- */

async function outboxAction(id, action) {
  try { await api("POST", "/api/outbox/" + id + "/" + action); }
  catch (e) { alert(e.message); }
  loadOutbox();
}

async function loadOutbox() {
  const body = $("outbox").querySelector("tbody");
  body.replaceChildren();
  let mails = [];
  try { mails = await api("GET", "/api/outbox"); } catch (e) { return; }
  mails.forEach((m) => body.append(el("tr", { "data-id": String(m.id) },
    el("td", { text: String(m.id) }), el("td", { text: m.subject }),
    el("td", { text: m.sender }),
    el("td", { class: "state state-" + m.state, text: t(m.state) }),
    el("td", { text: m.last_error || "" }),
    el("td", {},
      el("button", { type: "button", text: t("retry"),
                     onclick: () => outboxAction(m.id, "retry") }),
      el("button", { type: "button", text: t("cancel"),
                     onclick: () => outboxAction(m.id, "cancel") })))));
}

/* --- start -------------------------------------------------------- */

async function login(ev) {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    signedIn(await api("POST", "/api/login", {
      login: $("login-name").value, password: $("login-password").value }));
  } catch (e) {
    $("login-error").textContent = e.message;
  }
}

function setup() {
  ["to", "cc", "bcc"].forEach(setupChips);
  suggest($("record"), $("record").parentNode.querySelector(".suggest"),
    (q) => api("GET", "/api/records?limit=8&q=" + encodeURIComponent(q)),
    (r) => [el("span", { class: "name", text: r.ident }),
            el("span", { class: "detail", text: r.title || "" })],
    (r) => { $("record").value = r.ident; });
  suggest($("doc-search"), $("doc-search").parentNode.querySelector(".suggest"),
    (q) => api("GET", "/api/documents?limit=8&q=" + encodeURIComponent(q)),
    (d) => [el("span", { class: "name", text: d.id + " " + d.title }),
            el("span", { class: "detail", text: d.filename })],
    (d) => { addAttachmentRow({ document: d.id, pdf: false,
                                label: d.id + " " + d.filename });
             $("doc-search").value = ""; });
  $("file").addEventListener("change", uploadFiles);
  $("send").addEventListener("click", send);
  $("login-view").addEventListener("submit", login);
  $("history-form").addEventListener("submit", loadHistory);
  $("outbox-reload").addEventListener("click", loadOutbox);
  $("nav-compose").addEventListener("click", () => show("compose"));
  $("nav-history").addEventListener("click", () => {
    show("history"); loadHistory();
  });
  $("nav-outbox").addEventListener("click", () => show("outbox"));
  $("logout").addEventListener("click", async () => {
    await api("POST", "/api/logout").catch(() => {});
    location.reload();
  });
}

document.addEventListener("DOMContentLoaded", async () => {
  state.lang = (navigator.language || "en").startsWith("de") ? "de" : "en";
  translate();
  setup();
  try { signedIn(await api("GET", "/api/session")); }
  catch (e) { show("login"); }
});
