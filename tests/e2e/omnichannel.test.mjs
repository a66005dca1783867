// Carts and orders from every channel: a cart started in the app and collected in a
// store, holds that show and lapse, delivery allocation, lifecycle stock effects, and
// the invariants under racing requests (no oversell, one order per key, one coupon use,
// nothing leaked by a placement that dies halfway).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call, issueKey, levelAt, location, product, sleep, stock, stockedStore, uid } from "./api.mjs";

const pickupAt = (location_id) => ({ type: "pickup", location_id });
const delivery = (latitude, longitude) => ({
  type: "delivery", latitude, longitude,
  address: { line1: "Damrak 1", city: "Amsterdam", postal_code: "1012 AB", country: "NL" },
});
const order = (body, { key, headers = {} } = {}) =>
  call("POST", "/v1/orders", { body, key, headers: { "idempotency-key": uid(), ...headers } });

describe("carts across channels", () => {
  test("an app cart holds its units and is collected at a store", async () => {
    const { store, skus: [sku] } = await stockedStore(3);
    const app = await issueKey({ role: "storefront", channel: "app" });
    const pos = await issueKey({ role: "store", location_id: store });

    const cart = await call("POST", "/v1/carts", { key: app.secret, body: { contact: { email: `ann-${uid()}@example.com` } } });
    assert.equal(cart.status, 201);
    assert.equal(cart.json.channel, "app");
    const line = await call("PUT", `/v1/carts/${cart.json.id}/lines/${sku}`, { key: app.secret, body: { quantity: 2 } });
    assert.equal(line.status, 200);
    assert.deepEqual(line.json.lines[0].line_total, { amount: "39.98", currency: "EUR" });
    assert.deepEqual(line.json.subtotal, { amount: "39.98", currency: "EUR" });
    assert.equal(line.json.lines[0].held_at, store);
    const level = await levelAt(sku, store);
    assert.deepEqual([level.on_hand, level.held, level.available], [3, 2, 1]);
    const tooMany = await call("PUT", `/v1/carts/${cart.json.id}/lines/${sku}`, { key: app.secret, body: { quantity: 4 } });
    assert.equal(tooMany.json.code, "insufficient_stock");

    // the store's POS finishes the app's cart
    const placed = await order({ cart_id: cart.json.id, fulfilment: pickupAt(store), payment: { method: "pay_on_pickup" } }, { key: pos.secret });
    assert.equal(placed.status, 201, JSON.stringify(placed.json));
    assert.equal(placed.json.channel, "app");
    assert.deepEqual(placed.json.allocations, [{ sku, quantity: 2, location_id: store }]);
    const after = await levelAt(sku, store);
    assert.deepEqual([after.on_hand, after.held, after.committed], [1, 0, 2]);
    assert.equal((await call("GET", `/v1/carts/${cart.json.id}`)).json.status, "ordered");
    const closed = await call("PUT", `/v1/carts/${cart.json.id}/lines/${sku}`, { key: app.secret, body: { quantity: 1 } });
    assert.equal(closed.json.code, "cart_closed");

    const pickups = await call("GET", `/v1/locations/${store}/pickups`, { key: pos.secret });
    assert.deepEqual(pickups.json.items.map((o) => o.id), [placed.json.id]);
    assert.equal((await call("POST", `/v1/orders/${placed.json.id}/mark_ready`, { key: pos.secret })).json.status, "ready_for_pickup");
    assert.equal((await call("POST", `/v1/orders/${placed.json.id}/collect`, { key: pos.secret })).json.status, "collected");
    const handedOver = await levelAt(sku, store);
    assert.deepEqual([handedOver.on_hand, handedOver.committed], [1, 0]);
    const again = await call("POST", `/v1/orders/${placed.json.id}/cancel`, { key: pos.secret });
    assert.equal(again.json.code, "invalid_transition");
  });

  test("holds lapse by themselves", async () => {
    const { store, skus: [sku] } = await stockedStore(2);
    const cart = await call("POST", "/v1/carts", { body: { channel: "web", hold_seconds: 2 } });
    await call("PUT", `/v1/carts/${cart.json.id}/lines/${sku}`, { body: { quantity: 2 } });
    assert.equal((await levelAt(sku, store)).held, 2);
    await sleep(3500);
    assert.deepEqual([(await levelAt(sku, store)).held, (await levelAt(sku, store)).available], [0, 2]);
  });
});

describe("orders", () => {
  test("delivery comes from the nearest location that has every line, else splits", async () => {
    const run = uid();
    const near = `near-${run}`;
    const far = `far-${run}`;
    await location(near, { at: [52.3702, 4.8930] });
    await location(far, { at: [52.30, 4.75], kind: "warehouse", pickup: false });
    const [a, b] = [`A-${run}`, `B-${run}`];
    await product(a);
    await product(b);
    await stock(a, near, 1);
    await stock(a, far, 5);
    await stock(b, far, 5);
    const whole = await order({ channel: "web", lines: [{ sku: a, quantity: 1 }, { sku: b, quantity: 1 }], fulfilment: delivery(52.3702, 4.8930), payment: { method: "prepaid" } });
    assert.equal(whole.status, 201, JSON.stringify(whole.json));
    assert.deepEqual(new Set(whole.json.allocations.map((x) => x.location_id)), new Set([far]), "the one location with both");
    await stock(b, far, 0);
    await stock(b, near, 1);
    const split = await order({ channel: "web", lines: [{ sku: a, quantity: 2 }, { sku: b, quantity: 1 }], fulfilment: delivery(52.3702, 4.8930), payment: { method: "prepaid" } });
    assert.equal(split.status, 201, JSON.stringify(split.json));
    assert.equal(new Set(split.json.allocations.map((x) => x.location_id)).size, 2, "split over two locations");
    assert.equal(split.json.totals.delivery_charge.amount.length > 0, true);

    const short = await order({ channel: "web", lines: [{ sku: a, quantity: 50 }, { sku: b, quantity: 9 }], fulfilment: delivery(52.37, 4.89), payment: { method: "prepaid" } });
    assert.equal(short.status, 409);
    assert.deepEqual(short.json.short_lines.map((l) => l.sku).sort(), [a, b].sort());
  });

  test("an in-store sale is collected at once; a cancelled order puts stock back where it came from", async () => {
    const { store, skus: [sku] } = await stockedStore(5);
    const pos = await issueKey({ role: "store", location_id: store });
    const sale = await order({ lines: [{ sku, quantity: 2 }], fulfilment: { type: "in_store" }, payment: { method: "paid_in_store" } }, { key: pos.secret });
    assert.equal(sale.status, 201, JSON.stringify(sale.json));
    assert.equal(sale.json.status, "collected");
    assert.deepEqual([(await levelAt(sku, store)).on_hand, (await levelAt(sku, store)).committed], [3, 0]);
    const wrongPayment = await order({ lines: [{ sku, quantity: 1 }], fulfilment: { type: "in_store" }, payment: { method: "pay_on_delivery" } }, { key: pos.secret });
    assert.equal(wrongPayment.json.code, "payment_not_allowed");

    const placed = await order({ channel: "call_centre", lines: [{ sku, quantity: 1 }], fulfilment: pickupAt(store), payment: { method: "prepaid" } });
    assert.equal((await levelAt(sku, store)).committed, 1);
    const cancelled = await call("POST", `/v1/orders/${placed.json.id}/cancel`);
    assert.equal(cancelled.json.status, "cancelled");
    assert.deepEqual([(await levelAt(sku, store)).on_hand, (await levelAt(sku, store)).committed], [3, 0]);
  });

  test("every channel sees a customer's orders, newest first, with a cursor", async () => {
    const { store, skus: [sku] } = await stockedStore(10);
    const email = `cus-${uid()}@example.com`;
    const customer = await call("POST", "/v1/customers", { body: { name: "Cas", email, consents: { email_reminders: true } } });
    assert.equal(customer.status, 201);
    const ids = [];
    for (const channel of ["web", "call_centre", "messenger"]) {
      const placed = await order({ channel, contact: { email }, lines: [{ sku, quantity: 1 }], fulfilment: pickupAt(store), payment: { method: "prepaid" } });
      assert.equal(placed.json.customer_id, customer.json.id, "a guest email links to the customer");
      ids.push(placed.json.id);
    }
    const page1 = await call("GET", `/v1/orders?customer_id=${customer.json.id}&limit=2`);
    assert.deepEqual(page1.json.items.map((o) => o.id), [ids[2], ids[1]]);
    const page2 = await call("GET", `/v1/orders?customer_id=${customer.json.id}&limit=2&cursor=${page1.json.next_cursor}`);
    assert.deepEqual(page2.json.items.map((o) => o.id), [ids[0]]);
    const timeline = await call("GET", `/v1/customers/${customer.json.id}/timeline`);
    assert.deepEqual(new Set(timeline.json.items.map((e) => e.channel)), new Set(["web", "call_centre", "messenger"]));
  });
});

describe("invariants under racing requests", () => {
  test("the last K units are sold exactly K times across channels and keys", async () => {
    const { store, skus: [sku] } = await stockedStore(3);
    const keys = [
      (await issueKey({ role: "storefront", channel: "web" })).secret,
      (await issueKey({ role: "storefront", channel: "app" })).secret,
      (await issueKey({ role: "store", location_id: store })).secret,
      undefined,
    ];
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => {
      const key = keys[i % keys.length];
      const body = { lines: [{ sku, quantity: 1 }], fulfilment: pickupAt(store), payment: { method: "prepaid" } };
      return order(key === undefined ? { ...body, channel: "call_centre" } : body, { key });
    }));
    assert.equal(answers.filter((a) => a.status === 201).length, 3, answers.map((a) => a.status).join(","));
    assert.ok(answers.filter((a) => a.status !== 201).every((a) => a.status === 409 && a.json.code === "insufficient_stock"));
    const level = await levelAt(sku, store);
    assert.deepEqual([level.on_hand, level.held, level.committed], [0, 0, 3], "on_hand + committed conserved");
  });

  test("one Idempotency-Key, raced, is one order and one decrement; another body is refused", async () => {
    const { store, skus: [sku] } = await stockedStore(5);
    const body = { channel: "web", lines: [{ sku, quantity: 1 }], fulfilment: pickupAt(store), payment: { method: "prepaid" } };
    const headers = { "idempotency-key": `same-${uid()}` };
    const answers = await Promise.all(Array.from({ length: 6 }, () => call("POST", "/v1/orders", { body, headers })));
    assert.ok(answers.every((a) => a.status === 201), answers.map((a) => `${a.status}:${a.json.code}`).join(","));
    assert.equal(new Set(answers.map((a) => a.json.id)).size, 1);
    assert.deepEqual([(await levelAt(sku, store)).on_hand, (await levelAt(sku, store)).committed], [4, 1]);
    const other = await call("POST", "/v1/orders", { body: { ...body, lines: [{ sku, quantity: 2 }] }, headers });
    assert.equal(other.json.code, "idempotency_key_reused");
  });

  test("a single-use coupon raced by several orders is redeemed once", async () => {
    const { store, skus: [sku] } = await stockedStore(10);
    const code = `ONCE-${uid().toUpperCase()}`;
    assert.equal((await call("PUT", `/v1/coupons/${code}`, { body: { kind: "fixed_amount", amount: { amount: "5.00", currency: "EUR" }, max_redemptions: 1 } })).status, 201);
    const answers = await Promise.all(Array.from({ length: 5 }, () =>
      order({ channel: "web", coupon_code: code, lines: [{ sku, quantity: 1 }], fulfilment: pickupAt(store), payment: { method: "prepaid" } })));
    const won = answers.filter((a) => a.status === 201);
    assert.equal(won.length, 1, answers.map((a) => `${a.status}:${a.json.code}`).join(","));
    assert.deepEqual(won[0].json.totals.discount, { amount: "5.00", currency: "EUR" });
    assert.ok(answers.filter((a) => a.status !== 201).every((a) => a.json.code === "coupon_used_up"));
    assert.equal((await call("GET", `/v1/coupons/${code}`)).json.redeemed, 1);
    assert.deepEqual([(await levelAt(sku, store)).on_hand, (await levelAt(sku, store)).held], [9, 0], "losers leave no holds");
  });

  test("a placement that dies halfway leaves no order and no hold beyond the hold time", async () => {
    const { store, skus: [sku] } = await stockedStore(2);
    const email = `gone-${uid()}@example.com`;
    const customer = await call("POST", "/v1/customers", { body: { name: "Gone", email } });
    const died = await order({ channel: "web", contact: { email }, lines: [{ sku, quantity: 2 }], fulfilment: pickupAt(store), payment: { method: "prepaid" } },
      { headers: { "x-omniedge-fault": "after_reserve" } });
    assert.equal(died.status, 500);
    assert.equal(died.json.code, "internal_error");
    assert.equal((await levelAt(sku, store)).held, 2, "the reservation is still held");
    assert.equal((await call("GET", `/v1/orders?customer_id=${customer.json.id}`)).json.items.length, 0, "no half-written order");
    await sleep(4000);
    const level = await levelAt(sku, store);
    assert.deepEqual([level.on_hand, level.held, level.available, level.committed], [2, 0, 2, 0]);
  });
});
