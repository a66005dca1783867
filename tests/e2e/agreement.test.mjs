// The document and the worker agree on what a request may say. For values at the edges
// of each request schema (whole numbers written as `1.0`, control characters and
// whitespace in text, 20-digit amounts, a 0 percent, ids that are dot segments, null,
// timestamps, the `near` parameter), the OpenAPI document's verdict (Ajv) must be the
// expected one, and the worker must answer alike: what the document accepts is never
// refused as malformed (400 or 422), what it refuses is a 400 or 422 problem that leaves
// nothing behind. So a schema-driven fuzzer and the worker see the same contract.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parameterErrors, requestBodyErrors } from "./contract.mjs";
import {
  allAdjustments, call, delta, eur, expectProblem, expectStatus, fresh, levelAt, locationDraft, product,
  productDraft, stockedStore,
} from "./api.mjs";
import { counts, newCart, paid, pickupAt, placeOrder, setLine, world } from "./retail-fixtures.mjs";

/** A JSON number sent as written (`raw("1.0")`), where JSON.stringify would rewrite it. */
const RAW = Symbol("raw JSON");
const raw = (text) => ({ [RAW]: text });

/** The JSON text of a body, raw literals in place. */
function encode(body) {
  const literals = [];
  const text = JSON.stringify(body, (_, v) => (v && typeof v === "object" && RAW in v ? `\u0000raw${literals.push(v[RAW]) - 1}` : v));
  return text.replace(/"\\u0000raw(\d+)"/g, (_, i) => literals[i]);
}

/** `base` with the member at the dotted `path` set to `value` (undefined: left out). */
function variant(base, path, value) {
  const body = structuredClone(base);
  const keys = path.split(".");
  const parent = keys.slice(0, -1).reduce((node, key) => (node[key] ??= {}), body);
  if (value === undefined) delete parent[keys.at(-1)];
  else parent[keys.at(-1)] = value;
  return body;
}

const shown = (value) => {
  const text = value && typeof value === "object" && RAW in value ? value[RAW] : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
};

const malformed = (answer) => answer.status === 400 || answer.status === 422;

/**
 * Sends `base` varied by each case `[path, value, accepted]` and returns every
 * disagreement: the document's verdict on the body is not `accepted`, or the worker's is
 * not (accepted: any answer but 400/422; refused: 400/422 and `leftBehind()` false).
 * `send(text)` sends a body and returns `{ answer, leftBehind }`.
 */
async function disagreements(method, template, base, cases, send) {
  const wrong = [];
  for (const [path, value, accepted] of cases) {
    const text = encode(variant(base, path, value));
    const name = `${path} = ${shown(value)}`;
    const errors = requestBodyErrors(method, template, JSON.parse(text));
    if ((errors.length === 0) !== accepted) wrong.push(`${name}: the document ${accepted ? `refuses it: ${errors[0]}` : "accepts it"}`);
    const { answer, leftBehind } = await send(text);
    if (malformed(answer) === accepted) wrong.push(`${name}: the worker answers ${answer.status} ${answer.json?.code ?? ""}`);
    else if (!accepted && leftBehind && (await leftBehind())) wrong.push(`${name}: refused, but it left something behind`);
  }
  return wrong;
}

/** Sends each case as a PUT to a fresh id under `collection`; a refused one must leave no resource there. */
const putFresh = (collection, prefix) => async (text) => {
  const path = `/v1/${collection}/${fresh(prefix)}`;
  const answer = await call("PUT", path, { rawBody: text });
  return { answer, leftBehind: async () => (await call("GET", path)).status !== 404 };
};

describe("catalog", () => {
  test("products: text, ids, amounts, attributes and images", async () => {
    const cases = [
      ["name", " Trail Runner ", true],
      ["name", "Trail\u0000Runner", false],
      ["name", "Trail\tRunner", false],
      ["name", "Trail\u007fRunner", false],
      ["name", "Trail Runner\u0085", false],
      ["name", "\u3000\u00a0 ", false],
      ["name", "\ufeff", true],
      ["name", "Trail Runner 😀", true],
      ["name", "n".repeat(200), true],
      ["name", "n".repeat(201), false],
      ["name", "", false],
      ["name", null, false],
      ["style", ".", false],
      ["style", "..", false],
      ["style", "...", true],
      ["style", "S".repeat(64), true],
      ["style", "S".repeat(65), false],
      ["price.amount", "0", true],
      ["price.amount", "0001.50", true],
      ["price.amount", "999999999.9999", true],
      ["price.amount", "1000000000", true],
      ["price.amount", "1000000000.0000", true],
      ["price.amount", "1000000000.0001", false],
      ["price.amount", "1000000001", false],
      ["price.amount", "99999999999999999999", false],
      ["price.amount", "100000000000000000000000000000", false],
      ["price.amount", "1.23456", false],
      ["price.amount", "1.", false],
      ["price.amount", ".5", false],
      ["price.amount", "1e3", false],
      ["price.amount", "-0", false],
      ["price.amount", "", false],
      ["price.amount", raw("19.99"), false],
      ["price.currency", "eur", false],
      ["attributes", { material: " mesh " }, true],
      ["attributes", { "\u0001material": "mesh" }, false],
      ["attributes", { material: "mesh\u0000" }, false],
      ["attributes", { " ": "mesh" }, false],
      ["attributes", null, false],
      ["images", [`https://cdn.example.com/${"ü".repeat(2048 - 24)}`], true],
      ["images", [`https://cdn.example.com/${"ü".repeat(2049 - 24)}`], false],
      ["images", ["https://cdn.example.com/a\u00a0b.jpg"], false],
      ["images", ["https://cdn.example.com/\ufeff.jpg"], true],
      ["images", ["HTTPS://cdn.example.com/a.jpg"], false],
    ];
    assert.deepEqual(await disagreements("PUT", "/v1/products/{sku}", productDraft(), cases, putFresh("products", "AGREE")), []);
  });

  test("locations: positions, address lines and null", async () => {
    const cases = [
      ["latitude", raw("52.0"), true],
      ["latitude", raw("5.2e1"), true],
      ["latitude", 90, true],
      ["latitude", 90.0000001, false],
      ["longitude", -180, true],
      ["longitude", -180.5, false],
      ["address.line2", " 2nd floor ", true],
      ["address.line2", "2nd\nfloor", false],
      ["address.line2", null, false],
      ["address.country", "N1", false],
      ["ships_orders", null, false],
    ];
    assert.deepEqual(await disagreements("PUT", "/v1/locations/{location_id}", locationDraft(), cases, putFresh("locations", "agree")), []);
  });
});

describe("stock", () => {
  test("adjustments: whole numbers however written, notes, ids; refusals change nothing", async () => {
    const { store, skus: [sku] } = await stockedStore(10);
    const send = async (text) => ({ answer: await call("POST", `/v1/stock/${sku}/adjustments`, { rawBody: text, headers: { "idempotency-key": fresh("agree") } }) });
    const deltas = [
      ["quantity", raw("1.0"), true],
      ["quantity", raw("2e0"), true],
      ["quantity", raw("-1.000"), true],
      ["quantity", raw("-0"), false],
      ["quantity", raw("0.0"), false],
      ["quantity", raw("1.5"), false],
      ["quantity", raw("1000001.0"), false],
      ["quantity", raw("1e300"), false],
      ["quantity", raw("9007199254740993"), false],
      ["quantity", "1", false],
      ["quantity", null, false],
      ["note", " PO 4711 ", true],
      ["note", "PO\u00074711", false],
      ["note", null, false],
      ["location_id", "..", false],
    ];
    assert.deepEqual(await disagreements("POST", "/v1/stock/{sku}/adjustments", delta(store, 1, "found"), deltas, send), []);
    assert.equal((await levelAt(sku, store)).on_hand, 10 + 1 + 2 - 1 + 1, "only the accepted deltas applied");
    assert.equal((await allAdjustments(sku)).items.length, 1 + 4, "the fixture's set and the four accepted deltas");

    const sets = [
      ["quantity", raw("-0"), true],
      ["quantity", raw("1000000.0"), true],
      ["quantity", raw("1000000.5"), false],
      ["quantity", raw("-1.0"), false],
    ];
    const set = { location_id: store, kind: "set", quantity: 0, reason: "recount" };
    assert.deepEqual(await disagreements("POST", "/v1/stock/{sku}/adjustments", set, sets, send), []);
    assert.equal((await levelAt(sku, store)).on_hand, 1_000_000);
  });

  test("batch lookups: at most 100 SKUs, radius_km needs near, no null", async () => {
    const sku = fresh("LOOK");
    await product(sku);
    const send = async (text) => ({ answer: await call("POST", "/v1/stock/lookup", { rawBody: text }) });
    const cases = [
      ["skus", Array(100).fill(sku), true],
      ["skus", Array(101).fill(sku), false],
      ["skus", [], false],
      ["skus", ["."], false],
      ["radius_km", 5, false],
      ["near", { latitude: raw("52.0"), longitude: 4 }, true],
      ["near", { latitude: 52, longitude: 4, altitude: 0 }, false],
      ["pickup", null, false],
      ["kind", null, false],
    ];
    assert.deepEqual(await disagreements("POST", "/v1/stock/lookup", { skus: [sku] }, cases, send), []);
  });

  test("near is two plain decimals within range", async () => {
    const sku = fresh("NEAR");
    await product(sku);
    const values = [
      ["52.3676,4.9041", true], ["-90,180", true], ["90.000,-180.0", true], ["0,-0.5", true],
      ["52, 4", false], ["+52,4", false], ["052,4", false], ["5e1,4", false], ["52.,4", false], [".5,4", false],
      ["90.0001,0", false], ["-90.00000000000000000001,0", false], ["0,180.5", false], ["inf,0", false], ["52,4,1", false],
    ];
    assert.deepEqual(await queryDisagreements("/v1/stock/{sku}", "near", values, (near) => `/v1/stock/${sku}?near=${near}`), []);
  });

  test("max_staleness is whole seconds or milliseconds, at most a minute", async () => {
    const sku = fresh("FRESH");
    await product(sku);
    const values = [
      ["0s", true], ["1s", true], ["60s", true], ["0ms", true], ["999ms", true], ["60000ms", true], ["59999ms", true],
      ["61s", false], ["60001ms", false], ["01s", false], ["00ms", false], ["1", false], ["1.0s", false], ["1 s", false],
      ["1S", false], ["1m", false], ["ms", false], ["-1s", false], ["100000ms", false],
    ];
    const pathOf = (value) => `/v1/stock/${sku}?max_staleness=${value}`;
    assert.deepEqual(await queryDisagreements("/v1/stock/{sku}", "max_staleness", values, pathOf), []);
    const send = async (text) => ({ answer: await call("POST", "/v1/stock/lookup", { rawBody: text }) });
    const cases = [
      ["max_staleness", "1s", true], ["max_staleness", "250ms", true], ["max_staleness", "61s", false],
      ["max_staleness", 1, false], ["max_staleness", null, false],
    ];
    assert.deepEqual(await disagreements("POST", "/v1/stock/lookup", { skus: [sku] }, cases, send), []);
  });

  test("limit is an integer from 1 to 200, also written with a zero fraction", async () => {
    const { skus: [sku] } = await stockedStore(1);
    const values = [["200", true], ["200.0", true], ["1.000", true], ["201", false], ["0", false], ["1.5", false], ["ten", false]];
    const pathOf = (limit) => `/v1/stock/${sku}/adjustments?limit=${limit}`;
    assert.deepEqual(await queryDisagreements("/v1/stock/{sku}/adjustments", "limit", values, pathOf, Number), []);
  });
});

/**
 * Sends each value of query parameter `name` to `pathOf(value)` and returns every
 * disagreement with `[value, accepted]`: the document's verdict on the value as its
 * schema types it (`typed(value)`), or the worker's (200, or 400 invalid_query).
 */
async function queryDisagreements(template, name, values, pathOf, typed = (value) => value) {
  const wrong = [];
  for (const [value, accepted] of values) {
    const errors = parameterErrors("GET", template, name, typed(value));
    if ((errors.length === 0) !== accepted) wrong.push(`${name}=${value}: the document ${accepted ? "refuses" : "accepts"} it`);
    const answer = await call("GET", pathOf(encodeURIComponent(value)));
    if (answer.status !== (accepted ? 200 : 400)) wrong.push(`${name}=${value}: the worker answers ${answer.status} ${answer.json?.code ?? ""}`);
  }
  return wrong;
}

describe("carts", () => {
  test("starting one: hold_seconds, ids, contact details", async () => {
    const send = async (text) => ({ answer: await call("POST", "/v1/carts", { rawBody: text }) });
    const cases = [
      ["hold_seconds", raw("60.0"), true],
      ["hold_seconds", 4294967295, true],
      ["hold_seconds", 4294967296, false],
      ["hold_seconds", -1, false],
      ["hold_seconds", null, false],
      ["customer_id", ".", false],
      ["channel", null, false],
      ["contact", null, false],
      ["contact.email", " Ann@Example.com ", true],
      ["contact.email", "a@b@example.com", true],
      ["contact.email", "ann@example.com.", false],
      ["contact.email", "ann@.example.com", false],
      ["contact.email", "ann@example", false],
      ["contact.email", "änn@example.com", false],
      ["contact.email", `${"a".repeat(64)}@example.com`, true],
      ["contact.email", `${"a".repeat(65)}@example.com`, false],
      ["contact.phone", "+31 20 1234567", false],
    ];
    assert.deepEqual(await disagreements("POST", "/v1/carts", { channel: "web", contact: {} }, cases, send), []);
  });

  test("lines and updates: whole quantities, no null; refusals leave the cart as it was", async () => {
    const { sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 10 } } });
    const { json: cart } = await newCart({ channel: "web" });
    const line = [
      ["quantity", raw("2.0"), true],
      ["quantity", raw("0.0"), false],
      ["quantity", raw("1000001"), false],
      ["quantity", null, false],
    ];
    const setLineTo = async (text) => ({ answer: await call("PUT", `/v1/carts/${cart.id}/lines/${sku.shoe}`, { rawBody: text }) });
    assert.deepEqual(await disagreements("PUT", "/v1/carts/{cart_id}/lines/{sku}", { quantity: 1 }, line, setLineTo), []);

    const updates = [
      ["contact", { email: " ann@example.com " }, true],
      ["contact", null, false],
      ["customer_id", null, false],
      ["customer_id", "..", false],
    ];
    const update = async (text) => ({ answer: await call("PATCH", `/v1/carts/${cart.id}`, { rawBody: text }) });
    assert.deepEqual(await disagreements("PATCH", "/v1/carts/{cart_id}", {}, updates, update), []);
    const now = expectStatus(await call("GET", `/v1/carts/${cart.id}`), 200);
    assert.deepEqual([now.lines.map((l) => l.quantity), now.contact, now.customer_id], [[2], { email: "ann@example.com" }, undefined]);
  });
});

describe("coupons and orders", () => {
  test("coupons: percent above 0, positive amounts, kind-dependent fields, u32 limits, strict timestamps", async () => {
    const percent = [
      ["percent", "0", false],
      ["percent", "0.0000", false],
      ["percent", "000.0001", true],
      ["percent", "100", true],
      ["percent", "100.0000", true],
      ["percent", "100.0001", false],
      ["percent", "100.00000", false],
      ["percent", "12.34567", false],
      ["percent", "1e1", false],
      ["percent", raw("10"), false],
      ["percent", null, false],
      ["amount", eur("5.00"), false],
      ["kind", "fixed_amount", false],
      ["max_redemptions", raw("1.0"), true],
      ["max_redemptions", 0, false],
      ["max_redemptions", 4294967295, true],
      ["max_redemptions", 4294967296, false],
      ["minimum_basket", eur("50.00"), true],
      ["minimum_basket", eur("1000000000.0001"), false],
      ["expires_at", "2026-12-31T23:59:59Z", true],
      ["expires_at", "2026-12-31t23:59:59.5z", true],
      ["expires_at", "2026-12-31 23:59:59+02:00", true],
      ["expires_at", "2026-12-31T23:59:60Z", false],
      ["expires_at", "2026-12-31T23:59:59+0200", false],
      ["expires_at", "2026-02-30T00:00:00Z", false],
      ["expires_at", "2026-12-31T23:59:59", false],
      ["expires_at", "+2026-12-31T23:59:59Z", false],
      ["expires_at", null, false],
    ];
    const put = putFresh("coupons", "AGREE");
    assert.deepEqual(await disagreements("PUT", "/v1/coupons/{code}", { kind: "percent", percent: "10" }, percent, put), []);
    const fixed = [
      ["amount.amount", "0.00", false],
      ["amount.amount", "0.0001", true],
      ["amount.amount", "1000000000", true],
      ["amount.amount", "10000000000000000000000", false],
      ["percent", "10", false],
      ["kind", "percent", false],
    ];
    assert.deepEqual(await disagreements("PUT", "/v1/coupons/{code}", { kind: "fixed_amount", amount: eur("5.00") }, fixed, put), []);
  });

  test("orders: cart_id or lines, whole quantities, references, codes and contacts; refusals take no stock", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 100 } } });
    const placedAnswers = [];
    const send = async (text) => {
      const answer = await call("POST", "/v1/orders", { rawBody: text, headers: { "idempotency-key": fresh("agree") } });
      if (answer.status === 201) placedAnswers.push(answer.json);
      return { answer };
    };
    const direct = { channel: "web", lines: [{ sku: sku.shoe, quantity: 1 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") };
    const cases = [
      ["lines.0.quantity", raw("1.0"), true],
      ["lines.0.quantity", raw("1.5"), false],
      ["lines", [], false],
      ["cart_id", "cart_x", false],
      ["coupon_code", " no-such-code ", true],
      ["coupon_code", "no", false],
      ["coupon_code", "no such code", false],
      ["payment.reference", " pi_123 ", true],
      ["payment.reference", "pi\u0001", false],
      ["payment.reference", "   ", false],
      ["payment.reference", "r".repeat(129), false],
      ["payment.reference", ` ${"r".repeat(128)} `, true],
      ["payment.reference", null, false],
      ["contact", { email: " Ann@Example.com " }, true],
      ["contact", { email: "ann@example" }, false],
      ["contact", null, false],
      ["customer_id", "..", false],
      ["fulfilment.location_id", ".", false],
      ["channel", null, false],
    ];
    assert.deepEqual(await disagreements("POST", "/v1/orders", direct, cases, send), []);

    const { json: cart } = await newCart({ channel: "web" });
    await setLine(cart.id, sku.shoe, 1);
    const fromCart = [
      ["cart_id", ".", false],
      ["cart_id", `cart_${"0".repeat(32)}`, true],
      ["channel", "web", false],
      ["location_id", loc.shop, false],
      ["lines", [{ sku: sku.shoe, quantity: 1 }], false],
    ];
    const cartBody = { cart_id: cart.id, fulfilment: pickupAt(loc.shop), payment: paid("prepaid") };
    assert.deepEqual(await disagreements("POST", "/v1/orders", cartBody, fromCart, send), []);

    const sold = placedAnswers.flatMap((o) => o.lines).reduce((n, l) => n + l.quantity, 0);
    assert.equal(placedAnswers.length, 4, "the four accepted direct orders with a known coupon or none");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 100 - sold, held: 1, available: 99 - sold, committed: sold }, "refused orders took nothing; the cart still holds its unit");
  });
});

describe("returns", () => {
  test("opening and refunding: whole quantities, reasons and notes, ids, PSP references; refusals open nothing", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 100 } } });
    const { json: order } = await call("POST", "/v1/orders", {
      body: { channel: "web", lines: [{ sku: sku.shoe, quantity: 50 }], fulfilment: pickupAt(loc.shop), payment: paid("pay_on_pickup") },
      headers: { "idempotency-key": fresh("agree") },
    });
    for (const action of ["mark_ready", "collect"]) expectStatus(await call("POST", `/v1/orders/${order.id}/${action}`), 200, action);
    const returnsOf = async () => (await call("GET", `/v1/returns?order_id=${order.id}`)).json.items;
    const open = async (text) => {
      const before = (await returnsOf()).length;
      const answer = await call("POST", "/v1/returns", { rawBody: text, headers: { "idempotency-key": fresh("agree") } });
      return { answer, leftBehind: async () => (await returnsOf()).length !== before };
    };
    const base = { order_id: order.id, location_id: loc.shop, lines: [{ sku: sku.shoe, quantity: 1, reason: { code: "wrong_size" } }] };
    const cases = [
      ["lines.0.quantity", raw("1.0"), true],
      ["lines.0.quantity", raw("1.5"), false],
      ["lines.0.quantity", 0, false],
      ["lines", [], false],
      ["lines.0.reason", { code: "other", note: " too small " }, true],
      ["lines.0.reason", { code: "other", note: "too\u0000small" }, false],
      ["lines.0.reason", { code: "other" }, false],
      ["lines.0.reason", { code: "defective", note: "scuffed" }, false],
      ["lines.0.reason", { code: "lost" }, false],
      ["lines.0.replacement_sku", ".", false],
      ["lines.0.replacement_sku", null, false],
      ["location_id", "..", false],
      ["order_id", null, false],
      ["received", null, false],
      ["received", [{ sku: sku.shoe, condition: "broken" }], false],
    ];
    assert.deepEqual(await disagreements("POST", "/v1/returns", base, cases, open), []);

    const ret = expectStatus(await call("POST", "/v1/returns", {
      body: { ...base, received: [{ sku: sku.shoe, condition: "resellable" }] }, headers: { "idempotency-key": fresh("agree") },
    }), 201, "received on the spot");
    const statusOf = async () => (await call("GET", `/v1/returns/${ret.id}`)).json.status;
    const refund = async (text) => {
      const answer = await call("POST", `/v1/returns/${ret.id}/refund`, { rawBody: text, headers: { "idempotency-key": fresh("agree") } });
      return { answer, leftBehind: async () => (await statusOf()) !== "received" };
    };
    const refunds = [
      ["psp_reference", "r".repeat(129), false],
      ["psp_reference", "re 1", false],
      ["psp_reference", "", false],
      ["psp_reference", null, false],
      ["method", "cash", false],
      ["psp_reference", "r".repeat(128), true],
    ];
    assert.deepEqual(await disagreements("POST", "/v1/returns/{return_id}/{action}", { method: "original_payment", psp_reference: "re_1" }, refunds, refund), []);
    assert.equal(await statusOf(), "refunded");

    // Writing off damaged units: ten received damaged; each accepted case writes one off.
    expectStatus(await call("POST", "/v1/returns", {
      body: { ...base, lines: [{ ...base.lines[0], quantity: 10 }], received: [{ sku: sku.shoe, condition: "damaged" }] }, headers: { "idempotency-key": fresh("agree") },
    }), 201, "received damaged");
    const remaining = async () => (await call("GET", `/v1/locations/${loc.shop}/damaged-units`)).json.counts[0].remaining;
    const writeOff = async (text) => {
      const before = await remaining();
      const answer = await call("POST", `/v1/locations/${loc.shop}/damaged-units/write-offs`, { rawBody: text, headers: { "idempotency-key": fresh("agree") } });
      return { answer, leftBehind: async () => (await remaining()) !== before };
    };
    const writeOffs = [
      ["quantity", raw("1.0"), true],
      ["quantity", raw("1.5"), false],
      ["quantity", 0, false],
      ["quantity", -1, false],
      ["quantity", null, false],
      ["reason", " broken sole ", true],
      ["reason", "", false],
      ["reason", "a\u0000b", false],
      ["sku", ".", false],
      ["extra", 1, false],
    ];
    assert.deepEqual(await disagreements("POST", "/v1/locations/{location_id}/damaged-units/write-offs", { sku: sku.shoe, quantity: 1, reason: "torn" }, writeOffs, writeOff), []);
    assert.equal(await remaining(), 8, "two accepted write-offs of one unit each");
  });
});

describe("what no schema can say", () => {
  test("a member named twice is refused and changes nothing", async () => {
    const sku = fresh("TWICE");
    const text = JSON.stringify(productDraft()).replace('"name":"Trail Runner"', '"name":"Trail Runner","name":"Other"');
    expectProblem(await call("PUT", `/v1/products/${sku}`, { rawBody: text }), 422, "invalid_body");
    const attributes = JSON.stringify(productDraft({ attributes: { fit: "wide" } })).replace('"fit":"wide"', '"fit":"wide","fit":"narrow"');
    expectProblem(await call("PUT", `/v1/products/${sku}`, { rawBody: attributes }), 422, "invalid_body", "in a map too");
    expectProblem(await call("GET", `/v1/products/${sku}`), 404, "sku_not_found");

    const { store, skus: [stocked] } = await stockedStore(5);
    const twice = JSON.stringify(delta(store, 1)).replace('"quantity":1', '"quantity":1,"quantity":-1');
    const headers = { "idempotency-key": fresh("twice") };
    expectProblem(await call("POST", `/v1/stock/${stocked}/adjustments`, { rawBody: twice, headers }), 422, "invalid_body");
    assert.equal((await levelAt(stocked, store)).on_hand, 5);
  });

  test("whole numbers written with a fraction are the integers they denote", async () => {
    const { json: cart } = await call("POST", "/v1/carts", { rawBody: '{"channel":"web","hold_seconds":60.0}' });
    assert.equal(cart.hold_seconds, 60);
    const code = `W-${fresh("X").toUpperCase()}`;
    const coupon = await call("PUT", `/v1/coupons/${code}`, { rawBody: '{"kind":"percent","percent":"5","max_redemptions":3.0}' });
    assert.deepEqual([expectStatus(coupon, 201).max_redemptions, coupon.json.redeemed], [3, 0]);
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const line = await call("PUT", `/v1/carts/${cart.id}/lines/${sku.shoe}`, { rawBody: '{"quantity":2.000}' });
    assert.equal(expectStatus(line, 200).lines[0].quantity, 2);
    const order = await placeOrder(JSON.parse(`{"cart_id":"${cart.id}","fulfilment":{"type":"pickup","location_id":"${loc.shop}"},"payment":{"method":"prepaid"}}`));
    assert.deepEqual(expectStatus(order, 201).allocations, [{ sku: sku.shoe, quantity: 2, location_id: loc.shop }]);
  });
});

describe("reminders", () => {
  test("push subscriptions: endpoints, keys, the browser's null expirationTime, device labels", async () => {
    const { createECDH, randomBytes } = await import("node:crypto");
    const ecdh = createECDH("prime256v1");
    const base = {
      subscription: { endpoint: "https://push.example.test/s/1", keys: { p256dh: ecdh.generateKeys().toString("base64url"), auth: randomBytes(16).toString("base64url") } },
      device: "Firefox on a phone",
    };
    const cases = [
      ["subscription.expirationTime", null, true],
      ["subscription.expirationTime", 1893456000000, true],
      ["subscription.endpoint", "https://push.example.test:8443/x?y=1", true],
      ["subscription.endpoint", "http://push.example.test/x", false],
      ["subscription.endpoint", "https://user@push.example.test/x", false],
      ["subscription.endpoint", "https://push.example.test/a b", false],
      ["subscription.endpoint", "https://pü.example/x", false],
      ["subscription.endpoint", `https://push.example.test/${"x".repeat(1000)}`, false],
      ["subscription.keys.p256dh", "AAAA", false],
      ["subscription.keys.p256dh", `C${base.subscription.keys.p256dh.slice(1)}`, false],
      ["subscription.keys.auth", "AAAA", false],
      ["subscription.keys.auth", `${base.subscription.keys.auth}==`, true],
      ["subscription.keys.extra", "x", false],
      ["device", "d".repeat(100), true],
      ["device", "d".repeat(101), false],
      ["device", "Firefox\u0000", false],
      ["device", " \u00a0", false],
      ["device", null, false],
    ];
    const cart = expectStatus(await newCart({ channel: "web" }), 201);
    const path = `/v1/carts/${cart.id}/push-subscriptions`;
    const send = async (text) => {
      const before = expectStatus(await call("GET", path), 200).items.length;
      const answer = await call("POST", path, { rawBody: text });
      return { answer, leftBehind: async () => expectStatus(await call("GET", path), 200).items.length !== before };
    };
    assert.deepEqual(await disagreements("POST", "/v1/carts/{cart_id}/push-subscriptions", base, cases, send), []);
  });
});
