// The status page's charts, drawn by Apache ECharts (served by the API itself from
// /static/vendor/, installed by `make install`; web/routes.py). Per target: the cumulative
// curve against the pace line and the target, and the monthly bars beside the previous year's.
// Values show on hover (tooltip); the toolbox saves each chart as a PNG.
//
// Under the page's Content-Security-Policy (style-src 'self', no inline style attributes):
// ECharts draws on a canvas and positions its tooltip through element.style (CSSOM, which
// the policy allows); the tooltip's content is built here as DOM nodes, never as an HTML
// string, because ECharts' default tooltip HTML carries style="" attributes the policy blocks.
//
// Each chart's container keeps the exact API strings in data-values (tests compare them with
// the API); the chart itself plots Number()s, which only place pixels.
"use strict";

(function (root) {
  const F = root.SettlementFormat;
  const MONTHS = ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"];
  const COLOR = { on_track: "#2e7d32", behind: "#c62828", missed: "#c62828", achieved: "#1565c0",
                  suppressed: "#757575", pace: "#616161", previous: "#b0bec5", target: "#9e9e9e" };
  // code + kind -> { node, signature }: a chart keeps its container (and canvas) across the
  // page's 5 s refreshes, and is redrawn only when its figures changed, so a tooltip being
  // read stays open.
  const holders = new Map();

  function available() {
    return typeof root.echarts === "object" && root.echarts !== null && typeof root.echarts.init === "function";
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function holder(code, kind) {
    const key = code + "/" + kind;
    if (!holders.has(key)) {
      const node = el("div", "chart-canvas");
      node.setAttribute("data-testid", kind === "line" ? "curve" : "bars");
      holders.set(key, { node, signature: null });
    }
    return holders.get(key).node;
  }

  function axisLabel(value) {
    if (value >= 10000) return (value / 10000).toFixed(value % 10000 ? 1 : 0) + "万";
    return Number(Number(value).toPrecision(4)).toString();
  }

  // Tooltip content as DOM (see the CSP note above). rows: [color, label, text].
  function tooltip(title, rows) {
    const box = el("div", "tip");
    box.append(el("div", "tip-title", title));
    for (const [color, label, text] of rows) {
      const row = el("div", "tip-row");
      const swatch = el("span", "tip-swatch");
      swatch.style.backgroundColor = color; // CSSOM: allowed under style-src 'self'
      row.append(swatch, el("span", "tip-label", label), el("b", "tip-value", text));
      box.append(row);
    }
    return box;
  }

  function shown(text, unit) {
    return text === null ? "已隐去 suppressed" : text + " " + unit;
  }

  function base(code, kind, asOf, unit) {
    return {
      animation: false, // a refresh every 5 s: no re-animation, and deterministic screenshots
      grid: { left: 8, right: 12, top: 34, bottom: 4, containLabel: true },
      textStyle: { fontFamily: "system-ui, 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif" },
      toolbox: {
        right: 0, top: 0, itemSize: 15,
        feature: {
          saveAsImage: {
            title: "保存图片 Save image", name: code + "-" + kind + "-" + asOf, pixelRatio: 2,
            backgroundColor: "#ffffff",
          },
        },
      },
      tooltip: { trigger: "axis", confine: true, transitionDuration: 0, className: "chart-tip", backgroundColor: "#ffffff",
                 borderColor: "#bdbdbd", padding: [6, 8] },
      yAxis: { type: "value", name: unit, nameTextStyle: { align: "left", padding: [0, 0, 0, -6] },
               axisLabel: { formatter: axisLabel }, splitLine: { lineStyle: { color: "#eeeeee" } } },
    };
  }

  // Cumulative settled (day points) against the pace line, the target and the as_of day.
  function lineOption(code, series) {
    const color = COLOR[series.status] || COLOR.on_track;
    const points = series.points;
    const unit = series.plan_unit;
    const target = Number(series.target_amount_plan_unit);
    const option = base(code, "cumulative", series.as_of, unit);
    option.tooltip.formatter = (params) => {
      const i = params[0].dataIndex;
      const p = points[i];
      const rows = [];
      if (p.start <= series.as_of) rows.push([color, "累计 settled", shown(F.planUnit(p.cumulative_plan_unit), unit)]);
      rows.push([COLOR.pace, "时间进度 pace", F.planUnit(p.expected_plan_unit) + " " + unit]);
      rows.push([COLOR.target, "目标 target", F.planUnit(series.target_amount_plan_unit) + " " + unit]);
      return tooltip(p.start, rows);
    };
    option.xAxis = {
      type: "category", boundaryGap: false, data: points.map((p) => p.start),
      axisLabel: { formatter: (value) => MONTHS[Number(value.slice(5, 7)) - 1],
                   interval: (index, value) => value.slice(8, 10) === "01" && (points.length < 100 || Number(value.slice(5, 7)) % 2 === 1) },
      axisTick: { show: false },
    };
    option.yAxis.max = (extent) => Math.max(extent.max, target) * 1.04;
    option.series = [
      {
        name: "累计 settled", type: "line", showSymbol: false, connectNulls: false, color,
        lineStyle: { width: 2.5 },
        // null: after as_of, or withheld by disclosure control (a gap, never a shifted curve)
        data: points.map((p) => (p.cumulative_plan_unit === null ? null : Number(p.cumulative_plan_unit))),
        markLine: {
          symbol: "none", silent: true, animation: false,
          data: [
            { yAxis: target, lineStyle: { color: COLOR.target, type: "dotted" },
              label: { formatter: "目标 " + F.planUnit(series.target_amount_plan_unit), position: "insideStartTop",
                       color: "#616161" } },
            { xAxis: series.as_of, lineStyle: { color: "#bdbdbd", type: "solid" }, label: { show: false } },
          ],
        },
      },
      {
        name: "时间进度 pace", type: "line", showSymbol: false, color: COLOR.pace,
        lineStyle: { width: 1.5, type: [6, 4] },
        data: points.map((p) => Number(p.expected_plan_unit)),
      },
    ];
    return option;
  }

  // Monthly settled against the same month one year earlier, in the plan unit.
  function barOption(code, series, status) {
    const color = COLOR[status] || COLOR.on_track;
    const points = series.points;
    const unit = series.plan_unit;
    const option = base(code, "monthly", series.as_of, unit);
    const yi = (v) => (v === null ? null : Number(F.amountInPlanUnit(v)));
    option.tooltip.axisPointer = { type: "shadow" };
    option.tooltip.formatter = (params) => {
      const p = points[params[0].dataIndex];
      const change = F.signed(F.amountInPlanUnit(F.subtract(p.settled, p.previous)));
      const rows = [
        [color, p.period, p.settled === null && p.end > series.as_of ? "—" : shown(F.amountInPlanUnit(p.settled), unit)],
        [COLOR.previous, "上年 previous year", shown(F.amountInPlanUnit(p.previous), unit)],
      ];
      if (change !== null) rows.push(["transparent", "同比 change", change + " " + unit]);
      return tooltip(p.period, rows);
    };
    option.xAxis = { type: "category", data: points.map((p) => MONTHS[Number(p.start.slice(5, 7)) - 1]),
                     axisTick: { alignWithLabel: true } };
    option.series = [
      { name: "上年 previous year", type: "bar", color: COLOR.previous, barGap: "0%",
        data: points.map((p) => yi(p.previous)) },
      { name: "本年 " + series.period, type: "bar", color, data: points.map((p) => yi(p.settled)) },
    ];
    return option;
  }

  function attributes(entry) {
    const line = holder(entry.code, "line");
    const day = entry.day.points;
    line.setAttribute("data-values",
      day.filter((p) => p.cumulative_plan_unit !== null).map((p) => p.cumulative_plan_unit).join(" "));
    line.setAttribute("data-pace", day.map((p) => p.expected_plan_unit).join(" "));
    const bars = holder(entry.code, "bar");
    bars.setAttribute("data-values", entry.month.points.map((p) => (p.settled === null ? "-" : p.settled)).join(" "));
    bars.setAttribute("data-previous",
      entry.month.points.map((p) => (p.previous === null ? "-" : p.previous)).join(" "));
  }

  function drawOne(code, kind, option, signature) {
    const state = holders.get(code + "/" + kind);
    const chart = root.echarts.getInstanceByDom(state.node) || root.echarts.init(state.node, null, { renderer: "canvas" });
    if (state.signature !== signature) {
      chart.setOption(option, { notMerge: true });
      state.signature = signature;
    }
  }

  // After the cards are in the document (a chart needs its container's size).
  function draw(entries) {
    for (const entry of entries) attributes(entry);
    if (!available()) {
      for (const entry of entries) {
        for (const kind of ["line", "bar"]) holder(entry.code, kind).replaceChildren(
          el("p", "charts-unavailable", "图表不可用 Charts unavailable: the chart library is not installed (make install)."));
      }
      document.body.setAttribute("data-charts", "unavailable");
      return;
    }
    for (const entry of entries) {
      const signature = JSON.stringify([entry.day, entry.month]);
      drawOne(entry.code, "line", lineOption(entry.code, entry.day), signature);
      drawOne(entry.code, "bar", barOption(entry.code, entry.month, entry.day.status), signature);
    }
    document.body.setAttribute("data-charts", "drawn");
  }

  function resize() {
    if (!available()) return;
    for (const state of holders.values()) {
      const chart = root.echarts.getInstanceByDom(state.node);
      if (chart) chart.resize();
    }
  }

  if (typeof window === "object") window.addEventListener("resize", resize);
  root.SettlementCharts = { available, holder, draw, resize };
})(globalThis);
