// Status page: renders /status.json (the public progress figures) and refreshes it.
// Plain JS, no dependencies, so the page works offline and without a build step.
"use strict";

const REFRESH_MS = 5000;
const STATUS_ZH = { achieved: "已完成", on_track: "进度正常", behind: "落后", missed: "未完成" };

function percent(ratio) {
  // Ratios arrive as decimal strings; two decimals of a percent are enough on screen.
  return (Number(ratio) * 100).toFixed(2);
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderTarget(t) {
  const card = el("section", { class: "target status-" + t.status, "data-code": t.code });
  const title = el("h2", {}, t.name_zh);
  title.appendChild(el("small", {}, t.name_en));
  card.appendChild(title);

  const bar = el("div", { class: "bar", role: "progressbar", "aria-valuemin": "0",
                          "aria-valuemax": "100", "aria-valuenow": percent(t.progress_ratio) });
  const fill = el("div", { class: "fill", "data-testid": "fill" });
  fill.style.width = Math.min(100, Number(t.progress_ratio) * 100) + "%";
  const marker = el("div", { class: "marker", "data-testid": "marker",
                             title: "expected " + percent(t.expected_ratio) + "%" });
  marker.style.left = Math.min(100, Number(t.expected_ratio) * 100) + "%";
  bar.append(fill, marker);
  card.appendChild(bar);

  const numbers = el("div", { class: "numbers" });
  const settled = el("span", {});
  settled.append(el("b", { "data-testid": "settled" }, t.settled_plan_unit), " / ",
                 el("span", { "data-testid": "target" }, t.target_amount_plan_unit),
                 " " + t.plan_unit);
  numbers.append(
    settled,
    el("span", {}, "进度 progress "),
  );
  numbers.lastChild.appendChild(el("b", { "data-testid": "progress" }, percent(t.progress_ratio) + "%"));
  const expected = el("span", {}, "应达 expected ");
  expected.appendChild(el("b", { "data-testid": "expected" }, percent(t.expected_ratio) + "%"));
  numbers.appendChild(expected);
  numbers.appendChild(el("span", { class: "status", "data-testid": "status",
                                   "data-status": t.status },
                         t.status + " · " + (STATUS_ZH[t.status] || "")));
  card.appendChild(numbers);

  const unconverted = Object.entries(t.unconverted || {});
  if (unconverted.length) {
    card.appendChild(el("p", { class: "unconverted", "data-testid": "unconverted" },
      "未折算 unconverted: " + unconverted.map(([c, a]) => a + " " + c).join(", ")));
  }
  return card;
}

function render(progress) {
  document.getElementById("as-of").textContent = progress.as_of;
  document.getElementById("tz").textContent = progress.timezone;
  document.getElementById("updated").textContent = new Date().toLocaleTimeString();
  const main = document.getElementById("targets");
  main.replaceChildren(...progress.targets.map(renderTarget));
  document.body.setAttribute("data-rendered", String(progress.targets.length));
}

async function refresh() {
  const conn = document.getElementById("conn");
  try {
    const response = await fetch("/status.json", { cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
    conn.textContent = "live";
    conn.className = "ok";
  } catch (err) {
    // Keep the last figures on screen and say they are stale.
    conn.textContent = "stale (" + err.message + ")";
    conn.className = "stale";
  }
}

render(JSON.parse(document.getElementById("initial-progress").textContent));
setInterval(refresh, REFRESH_MS);
