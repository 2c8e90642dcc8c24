// Status page: six targets at one as_of, each with its cumulative curve against the pace
// line and its monthly bars, from /status/series.json (market-wide figures only).
// Plain JS, no dependencies, so the page works offline and without a build step.
"use strict";

const REFRESH_MS = 5000;
// Only asked for when the server embeds no figures (private mode). sessionStorage only.
const KEY = "settlement.statusKey";
const SUPPRESSED = "已隐去 suppressed";
const STATUS_ZH = { achieved: "已完成", on_track: "进度正常", behind: "落后", missed: "未完成" };

function percent(ratio) {
  // Ratios arrive as decimal strings; two decimals of a percent are enough on screen.
  // null: withheld by disclosure control (fewer contributing banks than the minimum).
  return ratio === null ? "—" : (Number(ratio) * 100).toFixed(2);
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function figure(label, testid, value, unit) {
  const box = el("div", { class: "figure" });
  box.append(el("span", { class: "label" }, label));
  const line = el("span", { class: "value" });
  line.append(el("b", { "data-testid": testid }, value));
  if (unit) line.append(" " + unit);
  box.append(line);
  return box;
}

function renderTarget(entry) {
  const t = entry.day;
  const card = el("section", { class: "target status-" + t.status, "data-code": entry.code });
  const title = el("h2", {}, entry.name_zh);
  title.appendChild(el("small", {}, entry.name_en));
  title.appendChild(el("span", { class: "status", "data-testid": "status", "data-status": t.status },
                       (STATUS_ZH[t.status] || "") + " · " + t.status));
  card.appendChild(title);

  const numbers = el("div", { class: "numbers" });
  const settled = el("div", { class: "figure wide" });
  settled.append(el("span", { class: "label" }, "已结算 settled / 目标 target"));
  const line = el("span", { class: "value" });
  line.append(el("b", { "data-testid": "settled", "data-suppressed": String(Boolean(t.suppressed)) },
                 t.settled_plan_unit === null ? SUPPRESSED : t.settled_plan_unit), " / ",
              el("span", { "data-testid": "target" }, t.target_amount_plan_unit), " " + t.plan_unit);
  settled.append(line);
  numbers.append(
    settled,
    figure("进度 progress", "progress", percent(t.progress_ratio) + "%"),
    figure("应达 expected", "expected", percent(t.expected_ratio) + "%"),
    figure("预计全年 projected", "projected", t.projected_total_plan_unit === null ? "—" : t.projected_total_plan_unit,
           t.plan_unit),
  );
  card.appendChild(numbers);

  const bar = el("div", { class: "bar", role: "progressbar", "aria-valuemin": "0",
                          "aria-valuemax": "100", "aria-valuenow": percent(t.progress_ratio) });
  const fill = el("div", { class: "fill", "data-testid": "fill" });
  fill.style.width = Math.min(100, Number(t.progress_ratio || 0) * 100) + "%";
  const marker = el("div", { class: "marker", "data-testid": "marker",
                             title: "expected " + percent(t.expected_ratio) + "%" });
  marker.style.left = Math.min(100, Number(t.expected_ratio) * 100) + "%";
  bar.append(fill, marker);
  card.appendChild(bar);

  const unconverted = Object.entries(t.unconverted || {});
  if (unconverted.length) {
    card.appendChild(el("p", { class: "unconverted", "data-testid": "unconverted" },
      "未折算 unconverted (no FX rate, not in settled): " + unconverted.map(([c, a]) => a + " " + c).join(", ")));
  }

  const charts = el("div", { class: "charts" });
  const line_chart = el("figure", { class: "chart" });
  line_chart.innerHTML = lineChart(t);
  line_chart.appendChild(el("figcaption", {}, "累计结算 cumulative (—) vs 时间进度 pace (- -)"));
  const bars = el("figure", { class: "chart" });
  bars.innerHTML = barChart(entry.month);
  bars.appendChild(el("figcaption", {}, "月度结算 monthly: " + entry.month.period + " (■) vs 上年 previous year (□)"));
  charts.append(line_chart, bars);
  card.appendChild(charts);
  return card;
}

let asOf = null; // null: follow today

function render(data) {
  document.getElementById("as-of").textContent = data.as_of;
  const capped = data.targets.length ? data.targets[0].day.as_of : data.as_of;
  document.getElementById("capped").textContent = capped !== data.as_of ? " → " + data.targets[0].day.period + " window closed " + capped : "";
  document.getElementById("tz").textContent = data.timezone;
  document.getElementById("updated").textContent = new Date().toLocaleTimeString();
  const input = document.getElementById("as-of-input");
  if (data.targets.length) {
    input.min = data.targets[0].day.window_start;
    input.max = data.targets[0].day.window_end;
  }
  if (document.activeElement !== input) input.value = data.targets.length ? data.targets[0].day.as_of : data.as_of;
  const main = document.getElementById("targets");
  main.replaceChildren(...data.targets.map(renderTarget));
  document.body.setAttribute("data-rendered", String(data.targets.length));
  document.body.setAttribute("data-as-of", data.as_of);
}

function askForKey(message) {
  sessionStorage.removeItem(KEY);
  document.getElementById("login").hidden = false;
  const error = document.getElementById("login-error");
  error.hidden = !message;
  error.textContent = message || "";
}

async function refresh() {
  const conn = document.getElementById("conn");
  const key = sessionStorage.getItem(KEY);
  if (needsKey && !key) return;
  try {
    const query = asOf ? "?as_of=" + encodeURIComponent(asOf) : "";
    const headers = key ? { Authorization: "Bearer " + key } : {};
    const response = await fetch("/status/series.json" + query, { cache: "no-store", headers });
    if (response.status === 401) {
      askForKey(key ? "The key was refused." : "");
      throw new Error("HTTP 401");
    }
    if (!response.ok) throw new Error("HTTP " + response.status);
    document.getElementById("login").hidden = true;
    render(await response.json());
    conn.textContent = "live";
    conn.className = "ok";
  } catch (err) {
    // Keep the last figures on screen and say they are stale.
    conn.textContent = "stale (" + err.message + ")";
    conn.className = "stale";
  }
}

const initial = JSON.parse(document.getElementById("initial-series").textContent);
const requested = new URLSearchParams(window.location.search).get("as_of");
// null: the server shows no figures without a key (PUBLIC_MODE=false).
const needsKey = initial === null;
if (requested) asOf = needsKey ? requested : initial.as_of;
if (needsKey) {
  if (sessionStorage.getItem(KEY)) refresh(); else askForKey("");
} else {
  render(initial);
}
document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("key");
  sessionStorage.setItem(KEY, input.value.trim());
  input.value = "";
  refresh();
});
document.getElementById("as-of-form").addEventListener("submit", (event) => {
  event.preventDefault();
  asOf = document.getElementById("as-of-input").value || null;
  // The date is public and harmless in the address bar, so a view can be bookmarked.
  history.replaceState(null, "", asOf ? "?as_of=" + asOf : window.location.pathname);
  refresh();
});
document.getElementById("as-of-input").addEventListener("change", () => {
  document.getElementById("as-of-form").requestSubmit();
});
document.getElementById("today").addEventListener("click", () => {
  asOf = null;
  history.replaceState(null, "", window.location.pathname);
  refresh();
});
// A background tab does not refresh: six day series are a few hundred kilobytes each time.
setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
