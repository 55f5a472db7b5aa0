// The playground's page: plain JavaScript, no library. It reads and acts through the playground
// server's /api (which reaches the simulator, the API server and the webhook's audit log) and
// follows /api/events (server-sent events) for live updates.
"use strict";

// Meta cuts quick-reply and button titles at 20 characters and card titles and subtitles at 80.
const QUICK_REPLY_TITLE = 20, BUTTON_TITLE = 20, CARD_TEXT = 80;
const cut = (s, n) => { const a = Array.from(s || ""); return a.length > n ? a.slice(0, n - 1).join("") + "…" : a.join(""); };

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") e.addEventListener("click", v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
};

const state = { config: null, page: "", psid: "", refreshing: null, again: false };

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: body ? { "Content-Type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function who() { return { page: state.page, psid: state.psid }; }

async function act(kind, action, extra = {}) {
  try {
    await api("POST", `/api/${kind}/${action}`, { ...who(), ...extra });
  } catch (e) {
    note(`${kind} ${action}: ${e.message}`, "failed");
  }
  refresh();
}

// --- the customer's side

function renderTabs() {
  const tabs = $("#tabs");
  tabs.replaceChildren(...state.config.customers.map((c, i) => {
    const selected = c.psid === state.psid;
    const b = el("button", { type: "button", role: "tab", id: `tab-${c.psid}`, "aria-selected": String(selected),
      tabindex: selected ? "0" : "-1", "aria-controls": "phone" }, c.name);
    b.addEventListener("click", () => { state.psid = c.psid; renderTabs(); refresh(); });
    b.addEventListener("keydown", (ev) => {
      const n = state.config.customers.length;
      const step = ev.key === "ArrowRight" ? 1 : ev.key === "ArrowLeft" ? -1 : 0;
      if (!step) return;
      const next = state.config.customers[(i + step + n) % n];
      state.psid = next.psid; renderTabs(); refresh();
      $(`#tab-${next.psid}`).focus();
    });
    return b;
  }));
}

function renderMessage(m) {
  const from = m.From === "customer" ? "customer" : m.From;
  const li = el("li", { class: from === "customer" ? "customer" : "page" });
  if (from !== "customer") li.append(el("div", { class: "who" }, from));
  const buttons = m.Buttons || [];
  // The cards as the simulator recorded them (title, subtitle, image); their buttons name them.
  const cards = m.Cards && m.Cards.length > 0 ? m.Cards
    : [...new Set(buttons.filter((b) => b.Card).map((b) => b.Card))].map((title) => ({ Title: title }));
  const button = (b) => b.Type === "web_url"
    ? el("span", { class: "link", title: b.URL }, cut(b.Title, BUTTON_TITLE) + " ↗")
    : el("button", { type: "button", onclick: () => act("customer", "press", { title: b.Title, card: b.Card || "" }) }, cut(b.Title, BUTTON_TITLE));
  if (m.Kind === "template" && cards.length > 0) {
    // Images are not fetched (nothing leaves localhost): the card says it has one.
    li.append(el("div", { class: "carousel", role: "group", "aria-label": "Carousel" }, ...cards.map((c) =>
      el("div", { class: "card" },
        ...(c.ImageURL ? [el("div", { class: "image", title: c.ImageURL }, "image")] : []),
        el("div", { class: "title" }, cut(c.Title, CARD_TEXT)),
        ...(c.Subtitle ? [el("div", { class: "subtitle" }, cut(c.Subtitle, CARD_TEXT))] : []),
        ...buttons.filter((b) => b.Card === c.Title).map(button)))));
  } else if (m.Kind === "template" && buttons.length > 0) {
    const text = (m.Text || "").replace(/  \[[^\]]*\]$/, "");
    li.append(el("div", { class: "template" }, el("div", { class: "text" }, text), ...buttons.map(button)));
  } else {
    // The simulator's text of a message with quick replies ends with their titles in braces.
    const text = (m.Text || "").replace(m.QuickReplies ? /  \{[^}]*\}$/ : /$^/, "");
    li.append(el("div", { class: "bubble" }, text));
  }
  return li;
}

function renderChat(t) {
  const msgs = t.messages || [];
  $("#chat").replaceChildren(...msgs.map(renderMessage));
  $("#chat").scrollTop = $("#chat").scrollHeight;
  // Quick replies of the Page's latest message, if it is the last message of all.
  const last = msgs[msgs.length - 1];
  const qrs = last && last.From !== "customer" ? last.QuickReplies || [] : [];
  $("#quick-replies").replaceChildren(...qrs.map((q) => el("button", { type: "button",
    onclick: () => act("customer", "tap", { title: q.Title, payload: q.Payload }) }, cut(q.Title, QUICK_REPLY_TITLE))));
  const w = t.welcome || {};
  const welcome = $("#welcome");
  welcome.replaceChildren();
  if (msgs.length === 0) {
    if (w.greeting) welcome.append(el("p", { class: "greeting" }, w.greeting));
    if (w.get_started) welcome.append(el("button", { type: "button", id: "get-started", onclick: () => act("customer", "get_started") }, "Get Started"));
  }
  $("#menu").replaceChildren(...(w.persistent_menu || []).map((item) => item.type === "web_url"
    ? el("span", { class: "link", title: item.url }, "☰ " + item.title + " ↗")
    : el("button", { type: "button", onclick: () => act("customer", "menu", { title: item.title }) }, "☰ " + item.title)));
  $("#owner").textContent = (t.owner && t.owner.owner) || "none";
  if (t.clock && t.clock.now) $("#clock").textContent = new Date(t.clock.now).toUTCString();
}

// refresh reads the selected conversation again. One read at a time; a refresh asked for while
// one runs (another tab chosen, a new event) runs once more after it, and a read whose tab is no
// longer selected is not shown.
async function refresh() {
  if (state.refreshing) {
    state.again = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    do {
      state.again = false;
      const page = state.page, psid = state.psid;
      try {
        const t = await api("GET", `/api/thread?page=${encodeURIComponent(page)}&psid=${encodeURIComponent(psid)}`);
        if (page === state.page && psid === state.psid) renderChat(t);
        else state.again = true;
      } catch (e) {
        note("refresh: " + e.message, "failed");
      }
    } while (state.again);
    state.refreshing = null;
  })();
  return state.refreshing;
}

let pending = null;
function refreshSoon() {
  clearTimeout(pending);
  pending = setTimeout(refresh, 80);
}

// --- the policy

async function loadPolicy() {
  try {
    const p = await api("GET", "/api/policy");
    $("#policy-name").textContent = `${p.namespace}/${p.name}`;
    $("#policy-spec").value = p.spec;
    $("#policy-spec").dataset.resourceVersion = p.resourceVersion;
    status(p.ready ? `Loaded generation ${p.generation}. Ready ${p.ready}` : `Loaded generation ${p.generation}.`, "ok");
  } catch (e) {
    status("Could not load the policy: " + e.message, "error");
  }
}

async function savePolicy(ev) {
  ev.preventDefault();
  try {
    const p = await api("PUT", "/api/policy", { spec: $("#policy-spec").value, resourceVersion: $("#policy-spec").dataset.resourceVersion });
    $("#policy-spec").dataset.resourceVersion = p.resourceVersion;
    $("#policy-spec").value = p.spec;
    status(`Saved: generation ${p.generation} applied to the cluster. The next message uses it.`, "ok");
  } catch (e) {
    status("Rejected: " + e.message, "error");
  }
}

function status(text, cls) {
  const s = $("#policy-status");
  s.textContent = text;
  s.className = cls;
  s.setAttribute("role", cls === "error" ? "alert" : "status");
}

// --- the timeline

function note(text, cls = "") { addTimeline(el("li", { class: cls }, text)); }

function addTimeline(li) {
  const tl = $("#timeline");
  tl.append(li);
  while (tl.children.length > 500) tl.firstChild.remove();
  tl.scrollTop = tl.scrollHeight;
}

function describe(ev) {
  const s = ev.step;
  switch (ev.kind) {
    case "step": {
      const payload = s.Payload ? ` (${s.Payload})` : "";
      return [`${s.Actor} ${s.Kind}: ${s.Text || ""}${payload} [owner: ${s.Owner || "none"}]`, "step", $("#timeline-steps").checked];
    }
    case "delivery":
      return [`webhook delivery to ${ev.app}, attempt ${ev.attempt}: ${ev.events || 0} event(s), ${ev.ok ? "200" : "failed " + (ev.status || "") + " " + (ev.error || "")}`,
        "delivery" + (ev.ok ? "" : " failed"), $("#timeline-calls").checked];
    case "graph":
      return [`Graph ${ev.method} ${ev.endpoint} by ${ev.app} → ${ev.status}${ev.code ? ` (#${ev.code}${ev.subcode ? "/" + ev.subcode : ""})` : ""}${ev.error ? " " + ev.error : ""}`,
        "graph" + (ev.status >= 400 ? " failed" : ""), $("#timeline-calls").checked];
    case "owner":
      return [`owner ${ev.from} → ${ev.to}${ev.cause ? " (" + ev.cause + ")" : ""}`, "owner", true];
  }
  return [`${ev.kind}`, "", true];
}

function follow() {
  const es = new EventSource("/api/events");
  es.addEventListener("timeline", (m) => {
    const ev = JSON.parse(m.data);
    if (ev.page && ev.page !== state.page) return;
    const [text, cls, show] = describe(ev);
    if (show) addTimeline(el("li", { class: cls }, el("time", {}, new Date(ev.time).toISOString().slice(11, 19)), text));
    if (!ev.psid || ev.psid === state.psid) refreshSoon();
  });
  es.addEventListener("audit", (m) => {
    const a = JSON.parse(m.data);
    if (a.page && a.page !== state.page) return;
    addTimeline(el("li", { class: "audit" }, `handover ${a.audit}: ${a.from} → ${a.to}, trigger ${a.trigger}, reason ${a.reason}, ${a.outcome}`));
  });
}

// --- start

async function start() {
  state.config = await api("GET", "/api/config");
  state.page = state.config.pages[0].id;
  state.psid = state.config.customers[0].psid;
  $("#page").replaceChildren(...state.config.pages.map((p) => el("option", { value: p.id }, `${p.name} (${p.id})`)));
  $("#page").addEventListener("change", () => { state.page = $("#page").value; $("#timeline").replaceChildren(); refresh(); });
  renderTabs();
  $("#compose").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("#compose-text").value.trim();
    if (!text) return;
    $("#compose-text").value = "";
    act("customer", "say", { text });
  });
  $("#agent").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("#agent-text").value.trim();
    if (!text) return;
    $("#agent-text").value = "";
    act("inbox", "reply", { text });
  });
  $("#agent-done").addEventListener("click", () => act("inbox", "done"));
  $("#policy").addEventListener("submit", savePolicy);
  $("#policy-reload").addEventListener("click", loadPolicy);
  const advance = async (duration) => {
    try { await api("POST", "/api/clock/advance", { duration }); } catch (e) { note("clock: " + e.message, "failed"); }
    refresh();
  };
  document.querySelectorAll("button.advance").forEach((b) => b.addEventListener("click", () => advance(b.dataset.duration)));
  $("#advance").addEventListener("click", () => advance($("#advance-by").value.trim()));
  await Promise.all([refresh(), loadPolicy()]);
  follow();
  document.body.dataset.ready = "true";
}

start().catch((e) => { document.body.prepend(el("p", { role: "alert" }, "The playground could not start: " + e.message)); });
