// Operator page: reads /v1/operator/* with the operator's key (and acknowledges control-total
// breaks with a note). The key lives in
// sessionStorage only (gone when the tab closes), is sent as an Authorization header, and is
// never put in a URL or in localStorage.
"use strict";

const KEY = "settlement.operatorKey";
const REFRESH_MS = 15000;

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(ratio) {
  return (Number(ratio) * 100).toFixed(2) + "%";
}

// 亿元 / 亿美元 to two decimals, as the plan writes them (format.js); exact in the API's JSON.
function plan(value) {
  const shown = globalThis.SettlementFormat.planUnit(value);
  return shown === null ? "—" : shown;
}

function when(stamp) {
  return stamp ? new Date(stamp).toLocaleString() : "—";
}

async function api(path, accept, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY), Accept: accept || "application/json" };
  const init = { headers, cache: "no-store" };
  if (body !== undefined) {
    init.method = "POST";
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 || response.status === 403) {
    signOut(response.status === 403 ? "This key is not an operator key." : "The key was refused.");
    throw new Error("HTTP " + response.status);
  }
  if (!response.ok) throw new Error("HTTP " + response.status);
  return response;
}

function table(headers, rows, numeric) {
  const wrap = el("div", { class: "table-wrap" });
  const t = el("table");
  const head = el("tr");
  headers.forEach((h, i) => head.appendChild(el("th", numeric.includes(i) ? { class: "num" } : {}, h)));
  t.appendChild(el("thead")).appendChild(head);
  const body = t.appendChild(el("tbody"));
  for (const row of rows) body.appendChild(row);
  wrap.appendChild(t);
  return wrap;
}

function cells(values, numeric, attrs) {
  const tr = el("tr", attrs || {});
  values.forEach((v, i) => tr.appendChild(el("td", numeric.includes(i) ? { class: "num" } : {}, String(v))));
  return tr;
}

function renderLeague(data) {
  const main = document.getElementById("league");
  main.replaceChildren();
  for (const t of data.targets) {
    const card = el("section", { class: "target", "data-code": t.code, "data-testid": "league" });
    const title = el("h2", {}, t.name_zh);
    title.appendChild(el("small", {}, t.name_en + " · " + plan(t.settled_plan_unit) + " " + t.plan_unit));
    card.appendChild(title);
    const rows = t.banks.map((b) =>
      cells([b.rank, b.bank_id, plan(b.settled_plan_unit), percent(b.share), b.events, when(b.last_event_received)],
            [0, 2, 3, 4], { "data-bank": b.bank_id, "data-settled": b.settled, "data-share": b.share,
                            "data-events": String(b.events), title: b.name }));
    card.appendChild(table(["#", "bank", "settled " + t.plan_unit, "share", "events", "last event received"],
                           rows, [0, 2, 3, 4]));
    main.appendChild(card);
  }
}

function renderCompleteness(data) {
  const box = document.getElementById("completeness");
  box.replaceChildren();
  const card = el("section", { class: "target", "data-testid": "completeness" });
  card.appendChild(el("h2", {}, "报送完整性 Reporting completeness"));
  card.appendChild(el("p", { class: "meta" },
    `Silent: nothing on the last ${data.silent_business_days} business days (${data.timezone}, today ${data.today}) · ` +
    `DLQ rate above ${percent(data.dlq_rate_threshold)} over ${data.dlq_rate_window_days} days.`));
  card.appendChild(el("p", { "data-testid": "silent" }, "沉默 silent: " + (data.silent.join(", ") || "none")));
  card.appendChild(el("p", { "data-testid": "dlq-high" }, "DLQ 偏高 high DLQ rate: " + (data.dlq_rate_high.join(", ") || "none")));
  const rows = data.banks.map((b) =>
    cells([b.bank_id, b.active ? "yes" : "no", when(b.last_event_received),
           b.business_days_silent === null ? "never" : b.business_days_silent, b.events_in_window, b.dlq_in_window,
           percent(b.dlq_rate)],
          [3, 4, 5, 6],
          { "data-bank": b.bank_id, "data-silent": String(b.silent), "data-dlq-high": String(b.dlq_rate_high),
            class: b.silent || b.dlq_rate_high ? "flag" : "", title: b.name }));
  card.appendChild(table(["bank", "active", "last event received", "business days silent", "events",
                          "DLQ", "DLQ rate"], rows, [3, 4, 5, 6]));
  box.appendChild(card);
}

function figures(f) {
  return f.count + " / " + f.amount;
}

// Open control-total breaks of every bank (docs/statistics.md): declared against counted,
// with a note field and a button to acknowledge each; the answer goes into the break's trail.
function renderBreaks(data) {
  const box = document.getElementById("breaks");
  box.replaceChildren();
  const card = el("section", { class: "target", "data-testid": "breaks" });
  card.appendChild(el("h2", {}, "控制总数差异 Control-total breaks"));
  card.appendChild(el("p", { class: "meta" },
    "Open breaks: a bank's declared count / sum per target and currency against its counted events. " +
    "Late events close a break; an acknowledgement needs a note."));
  const rows = data.breaks.map((b) => {
    const tr = cells([b.bank_id, b.period, b.target, b.currency, figures(b.declared), figures(b.counted),
                      b.count_difference, b.amount_difference, when(b.opened_at)],
                     [4, 5, 6, 7], { "data-break": String(b.id), "data-bank": b.bank_id, class: "flag" });
    const td = el("td");
    const note = el("input", { type: "text", "aria-label": "note for break " + b.id, maxlength: "2000",
                               "data-testid": "note" });
    const button = el("button", { type: "button", "data-testid": "acknowledge" }, "确认 Acknowledge");
    button.addEventListener("click", async () => {
      if (!note.value.trim()) { note.focus(); return; }
      button.disabled = true;
      try {
        await api("/v1/operator/control-totals/breaks/" + b.id + "/acknowledge", undefined, { note: note.value });
      } catch (err) {
        button.disabled = false;
        note.setCustomValidity(err.message);
        note.reportValidity();
        return;
      }
      refresh();
    });
    td.append(note, button);
    tr.appendChild(td);
    return tr;
  });
  card.appendChild(el("p", { "data-testid": "open-breaks" }, "未结 open: " + data.breaks.length));
  card.appendChild(table(["bank", "period", "target", "currency", "declared (n / sum)", "counted (n / sum)",
                          "Δ events", "Δ sum", "opened", "acknowledge"], rows, [4, 5, 6, 7]));
  box.appendChild(card);
}

let asOf = null;

async function refresh() {
  const conn = document.getElementById("conn");
  try {
    const query = asOf ? "?as_of=" + encodeURIComponent(asOf) : "";
    const league = await (await api("/v1/operator/league" + query)).json();
    const completeness = await (await api("/v1/operator/completeness")).json();
    renderLeague(league);
    renderCompleteness(completeness);
    renderBreaks(await (await api("/v1/operator/control-totals/breaks")).json());
    document.getElementById("as-of-input").value = asOf || league.as_of;
    document.body.setAttribute("data-rendered", String(league.targets.length));
    conn.textContent = "live";
    conn.className = "ok";
  } catch (err) {
    conn.textContent = "stale (" + err.message + ")";
    conn.className = "stale";
  }
}

async function download(format) {
  // A plain link would need the key in the URL; fetch with the header and hand over a blob.
  const response = await api("/v1/report?format=" + format, format === "csv" ? "text/csv" : "*/*");
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: "settlement-report." + format });
  document.body.appendChild(link);
  link.click();
  link.remove();
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  document.getElementById("app").hidden = true;
  document.getElementById("login").hidden = false;
  const error = document.getElementById("login-error");
  error.hidden = !message;
  error.textContent = message || "";
}

function signedIn() {
  document.getElementById("login").hidden = true;
  document.getElementById("app").hidden = false;
  refresh();
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("key");
  sessionStorage.setItem(KEY, input.value.trim());
  input.value = "";
  signedIn();
});
document.getElementById("logout").addEventListener("click", () => signOut(""));
document.getElementById("as-of-form").addEventListener("submit", (event) => {
  event.preventDefault();
  asOf = document.getElementById("as-of-input").value || null;
  refresh();
});
document.getElementById("download-xlsx").addEventListener("click", () => download("xlsx"));
document.getElementById("download-csv").addEventListener("click", () => download("csv"));
if (sessionStorage.getItem(KEY)) signedIn();
setInterval(() => { if (sessionStorage.getItem(KEY)) refresh(); }, REFRESH_MS);
