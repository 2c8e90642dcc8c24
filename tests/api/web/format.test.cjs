// node --test: the status page's exact display formatting (web/static/format.js).
// Run by tests/api/web/test_format_js.py, so `make test` runs it.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const format = require(path.join(__dirname, "../../../services/api/src/settlement_api/web/static/format.js"));

test("plan-unit figures read like the plan: two decimals", () => {
  assert.equal(format.planUnit("1687.0000"), "1687.00");
  assert.equal(format.planUnit("6000.0000"), "6000.00");
  assert.equal(format.planUnit("0.9877"), "0.99");
  assert.equal(format.planUnit("1234.5679"), "1234.57");
  assert.equal(format.planUnit("0"), "0.00");
  assert.equal(format.planUnit("12"), "12.00");
  assert.equal(format.planUnit("50000.1"), "50000.10");
});

test("rounding is half to even, like the API's Decimal quantize", () => {
  assert.equal(format.planUnit("0.1250"), "0.12");
  assert.equal(format.planUnit("0.1350"), "0.14");
  assert.equal(format.planUnit("0.1251"), "0.13");
  assert.equal(format.planUnit("2.9950"), "3.00");
  assert.equal(format.planUnit("-0.1250"), "-0.12");
  assert.equal(format.planUnit("-0.1350"), "-0.14");
  assert.equal(format.planUnit("-0.0040"), "0.00");
  assert.equal(format.planUnit("99999999.9950"), "100000000.00");
});

test("exact beyond a float's 15-16 digits", () => {
  // A float would print 9007199254740993.00 as ...992 or ...994.
  assert.equal(format.planUnit("9007199254740993.0049"), "9007199254740993.00");
  assert.equal(format.amountInPlanUnit("900719925474099312345.67"), "9007199254740.99");
});

test("amounts in the currency's units convert to the plan unit (1 亿 = 10^8)", () => {
  assert.equal(format.amountInPlanUnit("168700000000.00"), "1687.00");
  assert.equal(format.amountInPlanUnit("123456789012.34"), "1234.57");
  assert.equal(format.amountInPlanUnit("-500000.00"), "0.00"); // -0.005: half to even
  assert.equal(format.amountInPlanUnit("-600000.00"), "-0.01");
  assert.equal(format.amountInPlanUnit("1"), "0.00");
});

test("suppressed or malformed figures give null, never NaN or a guess", () => {
  for (const value of [null, undefined, "", "abc", "1e5", "1.2.3", "NaN"]) {
    assert.equal(format.planUnit(value), null, String(value));
    assert.equal(format.amountInPlanUnit(value), null, String(value));
  }
});

test("subtract is exact and signed shows the direction", () => {
  assert.equal(format.subtract("168700000000.00", "168699999999.99"), "0.01");
  assert.equal(format.subtract("0.1", "0.3"), "-0.2");
  assert.equal(format.subtract("5", "5.00"), "0.00");
  assert.equal(format.subtract(null, "1"), null);
  assert.equal(format.signed("12.30"), "+12.30");
  assert.equal(format.signed("-0.05"), "-0.05");
  assert.equal(format.signed("0.00"), "0.00");
});
