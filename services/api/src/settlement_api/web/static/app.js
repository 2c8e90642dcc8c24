// Status page: six targets at one as_of, each with its figures, its release state and its
// cumulative and monthly charts (charts.js), from /status/series.json and /status.json
// (market-wide figures only). Plain JS, no build step; every file is served by the API.
"use strict";

const F = globalThis.SettlementFormat;
const REFRESH_MS = 5000;
// Only asked for when the server embeds no figures (private mode). sessionStorage only.
const KEY = "settlement.statusKey";
const SUPPRESSED = "已隐去 suppressed";
const STATUS_ZH = { achieved: "已完成", on_track: "进度正常", behind: "落后", missed: "未完成" };
// Observation status of a published figure (SDMX OBS_STATUS) and the kind of a release.
const OBSERVATION = { provisional: "暂定 provisional", final: "终值 final", revised: "已修订 revised" };
const RELEASE_KIND = { preliminary: "初步发布 preliminary", final: "最终发布 final" };

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

// A plan-unit figure as the plan writes it (two decimals); the exact string in data-exact.
function planFigure(testid, exact, fallback) {
  const shown = F.planUnit(exact);
  return el("b", { "data-testid": testid, "data-exact": exact === null ? "" : exact, title: exact || "" },
            shown === null ? fallback : shown);
}

function figure(label, node, unit) {
  const box = el("div", { class: "figure" });
  box.append(el("span", { class: "label" }, label));
  const line = el("span", { class: "value" });
  line.append(node);
  if (unit) line.append(" " + unit);
  box.append(line);
  return box;
}

function when(stamp) {
  // A release time as the business day and minute it was published (ISO, sortable).
  const moment = new Date(stamp);
  return Number.isNaN(moment.getTime()) ? String(stamp) : moment.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

// The release state of one target (issue 24; docs/statistics.md, releases), from
//   GET /v1/releases                 {releases: [{id, period, kind, note, known_at}]}, oldest first
//   GET /v1/releases/{id}/revisions  {release, known_at, revisions: [{target, published, today,
//                                     difference, observation_status, suppressed}]}
// for the latest release of the page's period (published on = that release's known_at), and
// observation_status from /v1/progress (targets[].observation_status) when the revisions have
// none. Revised by = `difference` (today - published, exact, the target's currency) in the
// plan unit. null when there is no release and no status: the section is left out.
function releaseState(progressTarget, release, revision) {
  const status = (revision && revision.observation_status) || (progressTarget && progressTarget.observation_status);
  if (!status && !release) return null;
  const difference = revision && !revision.suppressed ? revision.difference : null;
  return {
    status: status || null,
    kind: release ? release.kind : null,
    releasedAt: release ? release.known_at : null,
    revision: difference === undefined ? null : difference,
    revisionPlanUnit: difference ? F.signed(F.amountInPlanUnit(difference)) : null,
    withheld: Boolean(revision && revision.suppressed),
    unit: progressTarget ? progressTarget.plan_unit : "",
  };
}

function renderRelease(state) {
  const box = el("p", { class: "release", "data-testid": "release",
                        "data-observation-status": state.status || "", "data-release-kind": state.kind || "" });
  if (state.status) {
    box.append(el("span", { class: "obs obs-" + state.status, "data-testid": "observation-status" },
                  OBSERVATION[state.status] || state.status));
  }
  if (state.kind) {
    box.append(el("span", { "data-testid": "release-kind" }, RELEASE_KIND[state.kind] || state.kind),
               el("span", { "data-testid": "released-at" }, "发布于 published " + when(state.releasedAt)));
  } else {
    box.append(el("span", {}, "尚未发布 not yet released"));
  }
  if (state.revision !== null) {
    const changed = !/^-?0\.?0*$/.test(state.revision);
    box.append(el("span", { "data-testid": "revision", "data-exact": state.revision },
                  changed ? "发布后修订 revised since: " + state.revisionPlanUnit + " " + state.unit
                          : "发布后未修订 unrevised since"));
  } else if (state.withheld) {
    box.append(el("span", { "data-testid": "revision" }, "修订已隐去 revision suppressed"));
  }
  return box;
}

function renderTarget(entry, progressTarget) {
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
  const settledNode = planFigure("settled", t.settled_plan_unit, SUPPRESSED);
  settledNode.setAttribute("data-suppressed", String(Boolean(t.suppressed)));
  line.append(settledNode, " / ", planFigure("target", t.target_amount_plan_unit, "—"), " " + t.plan_unit);
  settled.append(line);
  numbers.append(
    settled,
    figure("进度 progress", el("b", { "data-testid": "progress" }, percent(t.progress_ratio) + "%")),
    figure("应达 expected", el("b", { "data-testid": "expected" }, percent(t.expected_ratio) + "%")),
    figure("预计全年 projected", planFigure("projected", t.projected_total_plan_unit, "—"), t.plan_unit),
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

  const release = releaseState(progressTarget, releases.release, releases.byTarget[entry.code]);
  if (release) card.appendChild(renderRelease(release));

  const unconverted = Object.entries(t.unconverted || {});
  if (unconverted.length) {
    card.appendChild(el("p", { class: "unconverted", "data-testid": "unconverted" },
      "未折算 unconverted (no FX rate, not in settled): " + unconverted.map(([c, a]) => a + " " + c).join(", ")));
  }

  const charts = el("div", { class: "charts" });
  const lineChart = el("figure", { class: "chart" });
  lineChart.append(SettlementCharts.holder(entry.code, "line"),
                   el("figcaption", {}, "累计结算 cumulative (—) vs 时间进度 pace (- -)"));
  const bars = el("figure", { class: "chart" });
  bars.append(SettlementCharts.holder(entry.code, "bar"),
              el("figcaption", {}, "月度结算 monthly: " + entry.month.period + " vs 上年 previous year (grey)"));
  charts.append(lineChart, bars);
  card.appendChild(charts);
  return card;
}

let asOf = null; // null: follow today
let knownAt = null; // null: figures as known now
let progress = null; // the last /status.json (or /v1/progress?known_at=) body
let renderedSignature = null; // what the cards on screen were built from
// The latest release of the page's period and its revisions by target code (releaseState).
let releases = { release: null, byTarget: {}, readAt: 0 };
const RELEASES_MS = 60000; // revisions are read from the ledger: once a minute is enough

function progressByCode() {
  return Object.fromEntries(((progress && progress.targets) || []).map((t) => [t.code, t]));
}

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
  // known_at is offered only by a server whose /v1/progress answers with it (the key present,
  // null = now); figures read for a past time must say that time back (readKnownAt).
  const supportsKnownAt = Boolean(progress) && Object.prototype.hasOwnProperty.call(progress, "known_at");
  document.getElementById("known-at-form").hidden = !supportsKnownAt && !knownAt;
  document.getElementById("known-at-note").textContent =
    knownAt && progress && progress.known_at ? "当时所知 figures as known at " + when(progress.known_at) : "";
  lastSeries = data;
  // Unchanged figures (most 5 s refreshes): the cards stay as they are, so a tooltip being
  // read or a click on a chart's save icon is not cut by rebuilt cards.
  const signature = JSON.stringify([data, progress, releases.release, releases.byTarget]);
  if (signature === renderedSignature) return;
  renderedSignature = signature;
  const byCode = progressByCode();
  const main = document.getElementById("targets");
  main.replaceChildren(...data.targets.map((entry) => renderTarget(entry, byCode[entry.code])));
  SettlementCharts.draw(data.targets);
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

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? "?" + text : "";
}

async function getJson(path, headers) {
  const response = await fetch(path, { cache: "no-store", headers });
  if (response.status === 401) {
    askForKey(headers.Authorization ? "The key was refused." : "");
    throw new Error("HTTP 401");
  }
  if (!response.ok) throw new Error("HTTP " + response.status);
  return response.json();
}

// The figures as known now: /status/series.json and /status.json, every REFRESH_MS.
async function readNow(headers) {
  const [series, status] = await Promise.all([
    getJson("/status/series.json" + query({ as_of: asOf }), headers),
    getJson("/status.json", headers),
  ]);
  return [series, status];
}

// The figures as known at `knownAt`, from the public reads that take known_at (/v1/progress
// and each target's day and month series): the same shape as /status/series.json. Read once:
// what was known at a past time does not change, so it is not polled.
async function readKnownAt(headers, codes, period) {
  const status = await getJson("/v1/progress" + query({ as_of: asOf, known_at: knownAt }), headers);
  if (!status.known_at) throw new Error("known_at not supported by this server");
  const series = (code, granularity) =>
    getJson("/v1/progress/" + encodeURIComponent(code) + "/series" +
            query({ period, granularity, as_of: asOf, known_at: knownAt }), headers);
  const targets = await Promise.all(codes.map(async (code) => {
    const [day, month] = await Promise.all([series(code, "day"), series(code, "month")]);
    const target = status.targets.find((t) => t.code === code) || {};
    return { code, name_zh: target.name_zh, name_en: target.name_en, day, month };
  }));
  return [{ as_of: status.as_of, today: status.as_of, timezone: status.timezone, targets }, status];
}

// The latest release of `period` (known by `knownAt`, if set) and its revisions; an API
// without releases (404) leaves the section out.
async function readReleases(headers, period) {
  const response = await fetch("/v1/releases", { cache: "no-store", headers });
  if (!response.ok) return { release: null, byTarget: {}, readAt: Date.now() };
  const list = ((await response.json()).releases || []).filter((r) =>
    r.period === period && (!knownAt || new Date(r.known_at) <= new Date(knownAt)));
  const release = list.length ? list[list.length - 1] : null;
  const byTarget = {};
  if (release) {
    const revisions = await getJson("/v1/releases/" + encodeURIComponent(release.id) + "/revisions", headers);
    for (const r of revisions.revisions || []) byTarget[r.target] = r;
  }
  return { release, byTarget, readAt: Date.now() };
}

let shownView = null; // [knownAt, asOf] of the figures on screen
let lastSeries = null; // the series on screen: its codes and period for known_at reads

async function refresh() {
  const conn = document.getElementById("conn");
  const key = sessionStorage.getItem(KEY);
  if (needsKey && !key) return;
  const view = JSON.stringify([knownAt, asOf]);
  if (knownAt && shownView === view && lastSeries) return; // the past does not change
  try {
    const headers = key ? { Authorization: "Bearer " + key } : {};
    const period = progress && progress.period ? progress.period : null;
    const codes = lastSeries ? lastSeries.targets.map((t) => t.code) : [];
    const [series, status] = knownAt && codes.length
      ? await readKnownAt(headers, codes, lastSeries.targets[0].day.period)
      : await readNow(headers);
    document.getElementById("login").hidden = true;
    if (Date.now() - releases.readAt > RELEASES_MS || shownView !== view) {
      releases = await readReleases(headers, status.period || period);
    }
    progress = status;
    shownView = view;
    render(series);
    conn.textContent = knownAt ? "as known at " + when(knownAt) : "live";
    conn.className = "ok";
  } catch (err) {
    // Keep the last figures on screen and say they are stale.
    conn.textContent = "stale (" + err.message + ")";
    conn.className = "stale";
  }
}

function bookmark() {
  // as_of and known_at are public and harmless in the address bar: a view can be bookmarked.
  history.replaceState(null, "", window.location.pathname + query({ as_of: asOf, known_at: knownAt }));
}

// <input type="datetime-local"> value (the browser's local time) -> ISO 8601 in UTC, and back.
function toInstant(local) {
  const moment = new Date(local);
  return Number.isNaN(moment.getTime()) ? null : moment.toISOString();
}

function toLocalInput(instant) {
  const moment = new Date(instant);
  if (Number.isNaN(moment.getTime())) return "";
  const local = new Date(moment.getTime() - moment.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

const initial = JSON.parse(document.getElementById("initial-series").textContent);
progress = JSON.parse(document.getElementById("initial-progress").textContent);
const params = new URLSearchParams(window.location.search);
const requested = params.get("as_of");
knownAt = params.get("known_at");
if (knownAt) document.getElementById("known-at-input").value = toLocalInput(knownAt);
// null: the server shows no figures without a key (PUBLIC_MODE=false).
const needsKey = initial === null;
if (requested) asOf = needsKey ? requested : initial.as_of;
if (needsKey) {
  if (sessionStorage.getItem(KEY)) refresh(); else askForKey("");
} else {
  render(initial);
  // The embedded figures are those known now: releases, and a bookmarked known_at, at once.
  refresh();
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
  bookmark();
  refresh();
});
document.getElementById("as-of-input").addEventListener("change", () => {
  document.getElementById("as-of-form").requestSubmit();
});
document.getElementById("today").addEventListener("click", () => {
  asOf = null;
  bookmark();
  refresh();
});
document.getElementById("known-at-form").addEventListener("submit", (event) => {
  event.preventDefault();
  knownAt = toInstant(document.getElementById("known-at-input").value);
  bookmark();
  refresh();
});
document.getElementById("known-at-now").addEventListener("click", () => {
  knownAt = null;
  document.getElementById("known-at-input").value = "";
  bookmark();
  refresh();
});
// A background tab does not refresh: six day series are a few hundred kilobytes each time.
setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
