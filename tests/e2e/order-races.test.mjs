// The invariants that must hold when requests race or a placement dies halfway: the
// last units are sold exactly once across channels and keys, one Idempotency-Key is one
// order, a single-use coupon is redeemed once, and a placement that dies leaves either
// nothing (its reservation lapses) or a whole order whose stock is committed once.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BASE, call, sleep, uid } from "./api.mjs";
import {
  counts, newCoupon, newCustomer, ordersOf, paid, pickupAt, placeOrder, storefrontKey, storeKey, world, eur,
} from "./retail-fixtures.mjs";

const PLACEMENT_HOLD_SECONDS = 3; // the test runner's --var PLACEMENT_HOLD_SECONDS:3
/** Runs the cron once (locally the scheduled handler does not fire by itself). */
const runCron = () => fetch(`${BASE}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);

const outcomes = (answers) => answers.map((a) => `${a.status}:${a.json?.code ?? a.json?.id}`).join(", ");

/** Samples a SKU's counts at a location until `stop()` says so. */
async function sampleUntil(stop, sku, locationId) {
  const samples = [];
  while (!stop()) samples.push(await counts(sku, locationId));
  return samples;
}

describe("racing requests", () => {
  test("the last K units are sold exactly K times, whichever channel and key asks", async () => {
    const K = 3;
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: K } } });
    const pickup = { lines: [{ sku: sku.shoe, quantity: 1 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") };
    const callers = [
      { key: await storefrontKey("web"), body: pickup },
      { key: await storefrontKey("app"), body: pickup },
      { key: await storeKey(loc.shop), body: pickup },
      { key: undefined, body: { ...pickup, channel: "call_centre" } },
    ];

    let racing = true;
    const sampling = sampleUntil(() => !racing, sku.shoe, loc.shop);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => placeOrder(callers[i % callers.length].body, { key: callers[i % callers.length].key })),
    );
    racing = false;
    const samples = await sampling;

    const sold = answers.filter((a) => a.status === 201);
    assert.equal(sold.length, K, outcomes(answers));
    for (const lost of answers.filter((a) => a.status !== 201)) {
      assert.deepEqual([lost.status, lost.json.code], [409, "insufficient_stock"], outcomes(answers));
    }
    assert.deepEqual(new Set(sold.map((a) => a.json.id)).size, K);
    for (const sample of samples) {
      assert.ok(sample.held <= sample.on_hand, `never more held than on hand: ${JSON.stringify(sample)}`);
      assert.equal(sample.available, sample.on_hand - sample.held, `available is what is on hand and not held: ${JSON.stringify(sample)}`);
      assert.equal(sample.on_hand + sample.committed, K, `units are conserved while racing: ${JSON.stringify(sample)}`);
    }
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 0, held: 0, available: 0, committed: K });
  });

  test("one Idempotency-Key sent six times at once is one order and one decrement", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const web = await storefrontKey("web");
    const body = { lines: [{ sku: sku.shoe, quantity: 1 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") };
    const idempotencyKey = `retry-${uid()}`;

    const answers = await Promise.all(Array.from({ length: 6 }, () => placeOrder(body, { key: web, idempotencyKey })));
    assert.ok(answers.every((a) => a.status === 201), outcomes(answers));
    assert.equal(new Set(answers.map((a) => a.json.id)).size, 1, outcomes(answers));
    assert.equal(answers.filter((a) => a.headers.get("idempotent-replayed") !== "true").length, 1, "one original, the rest replays");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 4, held: 0, available: 4, committed: 1 });

    const otherBody = await placeOrder({ ...body, lines: [{ sku: sku.shoe, quantity: 2 }] }, { key: web, idempotencyKey });
    assert.deepEqual([otherBody.status, otherBody.json.code], [422, "idempotency_key_reused"]);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 4, held: 0, available: 4, committed: 1 });
  });

  test("a single-use coupon raced by five orders discounts exactly one", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: { price: "19.99" } }, stock: { shoe: { shop: 10 } } });
    const code = await newCoupon({ kind: "fixed_amount", amount: eur("5.00"), max_redemptions: 1 });
    const body = { channel: "web", coupon_code: code, lines: [{ sku: sku.shoe, quantity: 1 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") };

    const answers = await Promise.all(Array.from({ length: 5 }, () => placeOrder(body)));
    const won = answers.filter((a) => a.status === 201);
    assert.equal(won.length, 1, outcomes(answers));
    assert.deepEqual(won[0].json.totals.discount, eur("5.00"));
    assert.deepEqual(won[0].json.totals.grand_total, eur("14.99"));
    for (const lost of answers.filter((a) => a.status !== 201)) {
      assert.deepEqual([lost.status, lost.json.code], [409, "coupon_used_up"], outcomes(answers));
    }
    assert.equal((await call("GET", `/v1/coupons/${code}`)).json.redeemed, 1);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 9, held: 0, available: 9, committed: 1 }, "the losers hold nothing");
  });
});

describe("a placement that dies halfway", () => {
  /** A shop with `units` of a fresh SKU and a fresh customer whose email the order names. */
  async function setting(units) {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: units } } });
    const customer = await newCustomer();
    const body = {
      channel: "web", contact: { email: customer.email }, lines: [{ sku: sku.shoe, quantity: 2 }],
      fulfilment: pickupAt(loc.shop), payment: paid("prepaid"),
    };
    return { shop: loc.shop, sku: sku.shoe, customer, body };
  }

  function assertInternalError(answer) {
    assert.equal(answer.status, 500);
    assert.equal(answer.headers.get("content-type"), "application/problem+json", "a problem, never an HTML page");
    assert.equal(answer.json.code, "internal_error");
  }

  test("after taking the units: no order, and the sweeper voids what was taken once the placement hold is over", async () => {
    const { shop, sku, customer, body } = await setting(3);
    const idempotencyKey = uid("died-taking");
    const died = await placeOrder(body, { idempotencyKey, headers: { "x-omniedge-fault": "after_reserve" } });
    assertInternalError(died);

    assert.deepEqual(await counts(sku, shop), { on_hand: 1, held: 0, available: 1, committed: 2 }, "taken, for now");
    assert.deepEqual(await ordersOf(customer.id), [], "no order was written");
    await sleep((PLACEMENT_HOLD_SECONDS + 1) * 1000);
    assert.equal((await runCron()).status, 200);
    assert.deepEqual(await counts(sku, shop), { on_hand: 3, held: 0, available: 3, committed: 0 }, "voided: nothing stays committed");
    assert.deepEqual(await ordersOf(customer.id), []);
    assert.equal((await runCron()).status, 200);
    assert.deepEqual(await counts(sku, shop), { on_hand: 3, held: 0, available: 3, committed: 0 }, "voided once");

    // The client's retry under the same key, once the dead claim is stale, places the order.
    await sleep(27_000);
    const retried = await placeOrder(body, { idempotencyKey });
    assert.equal(retried.status, 201, outcomes([retried]));
    assert.deepEqual(await counts(sku, shop), { on_hand: 1, held: 0, available: 1, committed: 2 });
    assert.deepEqual((await ordersOf(customer.id)).map((o) => o.id), [retried.json.id]);
  });

  test("after writing the order: the order is whole, and reading it commits its stock once", async () => {
    const { shop, sku, customer, body } = await setting(3);
    const died = await placeOrder(body, { headers: { "x-omniedge-fault": "after_order_write" } });
    assertInternalError(died);

    const [order] = await ordersOf(customer.id);
    assert.ok(order, "the order was written");
    assert.equal(order.status, "placed");
    assert.deepEqual(order.lines.map((l) => [l.sku, l.quantity, l.line_total.amount]), [[sku, 2, "39.98"]]);
    assert.deepEqual(order.allocations, [{ sku, quantity: 2, location_id: shop }]);
    assert.equal(order.customer_id, customer.id);

    const read = await call("GET", `/v1/orders/${order.id}`);
    assert.equal(read.status, 200);
    const { returns, ...readOrder } = read.json;
    assert.deepEqual(readOrder, order, "the order as listed (a read adds its returns)");
    assert.deepEqual(returns, []);
    assert.deepEqual(await counts(sku, shop), { on_hand: 1, held: 0, available: 1, committed: 2 });
    await call("GET", `/v1/orders/${order.id}`);
    await sleep((PLACEMENT_HOLD_SECONDS + 1) * 1000);
    assert.deepEqual(await counts(sku, shop), { on_hand: 1, held: 0, available: 1, committed: 2 }, "committed exactly once");
    assert.equal((await ordersOf(customer.id)).length, 1);
  });

  test("after writing the order: a retry with the same Idempotency-Key answers with that order", async () => {
    const { shop, sku, customer, body } = await setting(3);
    const idempotencyKey = `died-${uid()}`;
    assertInternalError(await placeOrder(body, { idempotencyKey, headers: { "x-omniedge-fault": "after_order_write" } }));

    const retried = await placeOrder(body, { idempotencyKey });
    assert.equal(retried.status, 201);
    assert.equal(retried.headers.get("idempotent-replayed"), "true");
    assert.deepEqual((await ordersOf(customer.id)).map((o) => o.id), [retried.json.id], "one order, not a second one");
    assert.deepEqual(await counts(sku, shop), { on_hand: 1, held: 0, available: 1, committed: 2 });
  });
});
