// Operator page: reads /v1/operator/* with the operator's key (and acknowledges control-total
// breaks with a note); reminders and data-quality scores once a minute. The key lives in
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

// Control totals owed and not declared (GET /v1/operator/control-totals/missing), most
// overdue first, with the working days they are overdue.
function renderReminders(data) {
  const box = document.getElementById("reminders");
  box.replaceChildren();
  const card = el("section", { class: "target", "data-testid": "reminders" });
  card.appendChild(el("h2", {}, "催报 Reminders: control totals due and missing"));
  card.appendChild(el("p", { class: "meta" },
    `Months from ${data.since} whose control totals an active bank owes and has not declared ` +
    `(working days on China's calendar, ${data.timezone}, today ${data.today}). Silent banks are listed above.`));
  const rows = data.missing.map((m) =>
    cells([m.bank_id, m.period, m.due || "—", m.state, m.working_days_overdue], [4],
          { "data-bank": m.bank_id, "data-period": m.period, "data-state": m.state,
            "data-overdue": String(m.working_days_overdue), class: m.state === "overdue" ? "flag" : "" }));
  card.appendChild(el("p", { "data-testid": "missing-count" }, "未报 missing: " + data.missing.length));
  card.appendChild(table(["bank", "period", "due", "state", "working days overdue"], rows, [4]));
  box.appendChild(card);
}

// Every active bank's data-quality score of the last ended month (GET /v1/operator/quality),
// lowest first; a score below the threshold is flagged.
function renderQuality(data) {
  const box = document.getElementById("quality");
  box.replaceChildren();
  const card = el("section", { class: "target", "data-testid": "quality" });
  card.appendChild(el("h2", {}, "数据质量 Data quality " + data.period));
  card.appendChild(el("p", { class: "meta" },
    `Score 0-100 per bank (timeliness, rejections, corrections, control totals, unknown countries, silence; ` +
    `weights in seeds/quality.yaml); below ${data.alert_below} raises BankQualityLow.`));
  const rows = data.banks.map((b) =>
    cells([b.bank_id, b.score], [1],
          { "data-bank": b.bank_id, "data-score": b.score, class: b.below_alert ? "flag" : "", title: b.name }));
  card.appendChild(table(["bank", "score"], rows, [1]));
  box.appendChild(card);
}

// The month before today's, YYYY-MM (the browser's calendar; the API's business date is
// Shanghai's, a few hours apart at most around midnight on the 1st).
function lastEndedMonth() {
  const day = new Date();
  day.setDate(0);
  return day.getFullYear() + "-" + String(day.getMonth() + 1).padStart(2, "0");
}

// Reminders and scores cost grouped queries per bank and change slowly: read once a minute,
// not at every refresh.
const SLOW_MS = 60000;
let slowReadAt = 0;

async function refreshSlow() {
  if (Date.now() - slowReadAt < SLOW_MS) return;
  renderReminders(await (await api("/v1/operator/control-totals/missing")).json());
  renderQuality(await (await api("/v1/operator/quality?period=" + lastEndedMonth())).json());
  slowReadAt = Date.now();
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
    await refreshSlow();
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
