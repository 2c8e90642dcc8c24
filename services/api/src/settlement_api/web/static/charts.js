// Small SVG charts for the status page, drawn by hand (no library, no CDN).
// Each chart is an SVG string with a viewBox, so it scales to any card width. Data series
// carry their exact API values in data-values, so tests can compare them with the API.
"use strict";

const CHART = { w: 520, h: 224, left: 54, right: 10, top: 24, bottom: 26 };
const MONTHS = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];

function niceMax(value) {
  // The smallest 1/2/2.5/5 x 10^k at or above value, so the axis ticks read as round numbers.
  if (!(value > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function axisLabel(value) {
  if (value >= 10000) return (value / 10000).toFixed(value % 10000 ? 1 : 0) + "万";
  return Number(value.toPrecision(4)).toString();
}

function yAxis(ymax, unit) {
  const { w, h, left, right, top, bottom } = CHART;
  let out = "";
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    const y = top + (1 - i / 4) * (h - top - bottom);
    out += `<line class="grid" x1="${left}" x2="${w - right}" y1="${y}" y2="${y}"/>`;
    out += `<text class="tick" x="${left - 6}" y="${y + 4}" text-anchor="end">${axisLabel(v)}</text>`;
  }
  out += `<text class="unit" x="${left - 6}" y="11" text-anchor="end">${unit}</text>`;
  return out;
}

function scaleY(value, ymax) {
  const { h, top, bottom } = CHART;
  return top + (1 - value / ymax) * (h - top - bottom);
}

// Cumulative settled (day points) against the pace line and the target.
function lineChart(series) {
  const { w, h, left, right, top, bottom } = CHART;
  const points = series.points;
  const n = points.length;
  const x = (i) => left + (n > 1 ? i / (n - 1) : 0) * (w - left - right);
  const target = Number(series.target_amount_plan_unit);
  // [point, index]: a cumulative withheld by disclosure control (null, at the start of a
  // window with few contributing banks) leaves a gap, it does not shift the curve.
  const actual = points.map((p, i) => [p, i]).filter(([p]) => p.cumulative_plan_unit !== null);
  const top_value = Math.max(target, ...actual.map(([p]) => Number(p.cumulative_plan_unit)));
  const ymax = niceMax(top_value * 1.04);
  const curve = actual.map(([p, i]) => `${x(i).toFixed(2)},${scaleY(Number(p.cumulative_plan_unit), ymax).toFixed(2)}`);
  const pace = points.map((p, i) => `${x(i).toFixed(2)},${scaleY(Number(p.expected_plan_unit), ymax).toFixed(2)}`);
  let ticks = "";
  points.forEach((p, i) => {
    const day = p.start.slice(8, 10);
    const month = Number(p.start.slice(5, 7));
    if (day === "01" && (n < 100 || month % 2 === 1)) {
      ticks += `<text class="tick" x="${x(i)}" y="${h - bottom + 16}" text-anchor="start">${MONTHS[month - 1]}</text>`;
    }
  });
  const ty = scaleY(target, ymax);
  const asOf = actual.length ? x(actual[actual.length - 1][1]) : left;
  return `<svg class="line-chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="cumulative settled vs pace">
    ${yAxis(ymax, series.plan_unit)}${ticks}
    <line class="target-line" x1="${left}" x2="${w - right}" y1="${ty}" y2="${ty}"/>
    <text class="target-label" x="${left + 4}" y="${ty - 5}">目标 target ${Number(series.target_amount_plan_unit)}</text>
    <polyline class="pace" data-testid="pace" data-values="${points.map((p) => p.expected_plan_unit).join(" ")}"
      points="${pace.join(" ")}"/>
    <polyline class="curve" data-testid="curve" data-values="${actual.map(([p]) => p.cumulative_plan_unit).join(" ")}"
      points="${curve.join(" ")}"/>
    <line class="as-of-line" x1="${asOf}" x2="${asOf}" y1="${top}" y2="${h - bottom}"/>
  </svg>`;
}

// Monthly settled volume, with the same month of the previous year beside it.
function barChart(series) {
  const { w, h, left, right, top, bottom } = CHART;
  const points = series.points;
  const toYi = (v) => (v === null ? 0 : Number(v) / 1e8);
  const ymax = niceMax(Math.max(...points.map((p) => Math.max(toYi(p.settled), toYi(p.previous)))) * 1.05);
  const slot = (w - left - right) / points.length;
  const bar = slot * 0.36;
  let bars = "";
  points.forEach((p, i) => {
    const x0 = left + i * slot + slot * 0.12;
    const prev = toYi(p.previous);
    const cur = toYi(p.settled);
    bars += `<rect class="bar-previous" x="${x0.toFixed(2)}" y="${scaleY(prev, ymax).toFixed(2)}" width="${bar.toFixed(2)}"
      height="${(scaleY(0, ymax) - scaleY(prev, ymax)).toFixed(2)}"/>`;
    bars += `<rect class="bar-current" x="${(x0 + bar).toFixed(2)}" y="${scaleY(cur, ymax).toFixed(2)}"
      width="${bar.toFixed(2)}" height="${(scaleY(0, ymax) - scaleY(cur, ymax)).toFixed(2)}"/>`;
    bars += `<text class="tick" x="${(x0 + bar).toFixed(2)}" y="${h - bottom + 16}" text-anchor="middle">${MONTHS[Number(p.start.slice(5, 7)) - 1]}</text>`;
  });
  const current = points.map((p) => (p.settled === null ? "-" : p.settled)).join(" ");
  const previous = points.map((p) => (p.previous === null ? "-" : p.previous)).join(" ");
  return `<svg class="bar-chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="monthly settled vs previous year"
      data-testid="bars" data-values="${current}" data-previous="${previous}">
    ${yAxis(ymax, series.plan_unit)}${bars}
  </svg>`;
}
