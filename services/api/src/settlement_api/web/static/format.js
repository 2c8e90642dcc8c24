// Display formatting of the API's decimal strings, exact (BigInt, never a float), for the
// status page (app.js, charts.js) and node's test runner (tests/api/web/format.test.cjs).
//
// The API keeps its figures exact: amounts to the cent, plan-unit figures (亿元 / 亿美元) to
// 0.0001 亿 (kit/plan_units.py). The page shows plan-unit figures the way the plan writes
// them, with two decimals (1687.00亿元, not 1687.0000亿元), rounded half-even like the API's
// own rounding; the exact string stays in the element's data-exact attribute and the JSON.
"use strict";

(function (root) {
  const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;
  const YI_DIGITS = 8; // 1 亿 = 10^8 units of the currency

  // "-12.345" -> { units: -12345n, scale: 3 }; null for null, "", or anything not a decimal.
  function parse(text) {
    if (text === null || text === undefined) return null;
    const match = DECIMAL.exec(String(text).trim());
    if (!match) return null;
    const fraction = match[3] || "";
    const units = BigInt(match[2] + fraction);
    return { units: match[1] === "-" ? -units : units, scale: fraction.length };
  }

  function render(units, scale) {
    const negative = units < 0n;
    const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
    const whole = digits.slice(0, digits.length - scale);
    const body = scale ? whole + "." + digits.slice(digits.length - scale) : whole;
    return (negative ? "-" : "") + body;
  }

  // Rounds a decimal to `places` decimals, half to even (Python's Decimal ROUND_HALF_EVEN).
  function roundHalfEven(value, places) {
    if (value.scale <= places) {
      return { units: value.units * 10n ** BigInt(places - value.scale), scale: places };
    }
    const divisor = 10n ** BigInt(value.scale - places);
    const negative = value.units < 0n;
    const magnitude = negative ? -value.units : value.units;
    let quotient = magnitude / divisor;
    const twice = (magnitude % divisor) * 2n;
    if (twice > divisor || (twice === divisor && quotient % 2n === 1n)) quotient += 1n;
    return { units: negative ? -quotient : quotient, scale: places };
  }

  // A plan-unit figure as the plan writes it: "1687.0000" -> "1687.00", "1234.5679" -> "1234.57".
  // null (suppressed, or not a decimal) stays null: the caller says why it has no figure.
  function planUnit(text) {
    const value = parse(text);
    if (value === null) return null;
    const rounded = roundHalfEven(value, 2);
    return render(rounded.units, 2);
  }

  // An amount in the currency's units ("168700000000.00") in the plan unit, two decimals.
  function amountInPlanUnit(text) {
    const value = parse(text);
    if (value === null) return null;
    return planUnit(render(value.units, value.scale + YI_DIGITS));
  }

  // a - b of two decimal strings, exact; null when either is missing.
  function subtract(a, b) {
    const x = parse(a);
    const y = parse(b);
    if (x === null || y === null) return null;
    const scale = Math.max(x.scale, y.scale);
    const units = x.units * 10n ** BigInt(scale - x.scale) - y.units * 10n ** BigInt(scale - y.scale);
    return render(units, scale);
  }

  // "+12.30" / "-0.05" / "0.00": a change with its sign, for "revised by".
  function signed(text) {
    if (text === null) return null;
    return text.startsWith("-") || /^0\.?0*$/.test(text) ? text : "+" + text;
  }

  const api = { parse, roundHalfEven, planUnit, amountInPlanUnit, subtract, signed };
  root.SettlementFormat = api;
  if (typeof module === "object" && module.exports) module.exports = api;
})(typeof globalThis === "object" ? globalThis : this);
