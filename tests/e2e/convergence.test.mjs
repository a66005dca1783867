// Flows that always converge: whatever step of a placement or a status change dies,
// D1 (the order) and the stock objects (its units) end in agreement once the sweeper
// (the cron) has run, and an order whose stock is still owed is settled before it moves
// on. Plus the placement's promise under contention: a refused take re-reads and
// re-allocates, so no order is refused while units it could use are still available.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BASE, call, sleep } from "./api.mjs";
import {
  act, counts, deliveryTo, inStore, newCustomer, ordersOf, paid, pickupAt, placed, placeOrder, storefrontKey, storeKey, world,
} from "./retail-fixtures.mjs";

const PLACEMENT_HOLD_SECONDS = 3; // the test runner's --var PLACEMENT_HOLD_SECONDS:3

/** Runs the cron once (locally the scheduled handler does not fire by itself). */
async function sweep() {
  const answer = await fetch(`${BASE}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
  await answer.text();
}

const order = async (id) => (await call("GET", `/v1/orders/${id}`)).json;

describe("a status change that dies halfway", () => {
  test("a cancel that dies after writing its status still puts the units back (sweeper)", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const placedOrder = await placed({ channel: "web", lines: [{ sku: sku.shoe, quantity: 2 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") });
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 2 });

    const died = await call("POST", `/v1/orders/${placedOrder.id}/cancel`, { headers: { "x-omniedge-fault": "after_status_write" } });
    assert.equal(died.status, 500);
    await sweep();
    assert.equal((await order(placedOrder.id)).status, "cancelled");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 5, held: 0, available: 5, committed: 0 }, "restocked once");
    await sweep();
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 5, held: 0, available: 5, committed: 0 }, "a second sweep changes nothing");
  });

  test("a collect that dies after writing its status still hands the units over (sweeper)", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const placedOrder = await placed({ channel: "web", lines: [{ sku: sku.shoe, quantity: 2 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") });
    assert.equal((await act(placedOrder.id, "mark_ready")).status, 200);
    const died = await call("POST", `/v1/orders/${placedOrder.id}/collect`, { headers: { "x-omniedge-fault": "after_status_write" } });
    assert.equal(died.status, 500);
    await sweep();
    assert.equal((await order(placedOrder.id)).status, "collected");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 0 });
  });
});

describe("an order whose placement died after writing it", () => {
  test("moving it on first settles its stock: collected means handed over, not committed for ever", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const customer = await newCustomer();
    const body = { channel: "web", contact: { email: customer.email }, lines: [{ sku: sku.shoe, quantity: 2 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") };
    assert.equal((await placeOrder(body, { headers: { "x-omniedge-fault": "after_order_write" } })).status, 500);
    const [written] = await ordersOf(customer.id);

    assert.equal((await act(written.id, "mark_ready")).status, 200);
    assert.equal((await act(written.id, "collect")).status, 200);
    await sweep();
    assert.equal((await order(written.id)).status, "collected");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 0 }, "handed over, nothing left committed");
  });

  test("its units were taken before the write: nothing sells them meanwhile, and it moves on", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 2 } } });
    const customer = await newCustomer();
    const body = { channel: "web", contact: { email: customer.email }, lines: [{ sku: sku.shoe, quantity: 2 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") };
    assert.equal((await placeOrder(body, { headers: { "x-omniedge-fault": "after_order_write" } })).status, 500);
    const [written] = await ordersOf(customer.id);
    await sleep((PLACEMENT_HOLD_SECONDS + 1) * 1000);
    await sweep();
    const till = await storeKey(loc.shop);
    const sale = await placeOrder({ lines: [{ sku: sku.shoe, quantity: 2 }], fulfilment: inStore(), payment: paid("paid_in_store") }, { key: till });
    assert.deepEqual([sale.status, sale.json.code], [409, "insufficient_stock"], "the pair is the written order's");

    assert.equal((await act(written.id, "mark_ready")).status, 200);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 0, held: 0, available: 0, committed: 2 });
  });

  test("the sweeper finishes it without anyone reading it", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const till = await storeKey(loc.shop);
    const sale = { lines: [{ sku: sku.shoe, quantity: 1 }], fulfilment: inStore(), payment: paid("paid_in_store") };
    assert.equal((await placeOrder(sale, { key: till, headers: { "x-omniedge-fault": "after_order_write" } })).status, 500);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 4, held: 0, available: 4, committed: 1 }, "taken so far");
    await sweep();
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 4, held: 0, available: 4, committed: 0 }, "handed over at the till");
  });
});

describe("placement under contention", () => {
  test("a refused hold re-reads and re-allocates: 5 units, 50 racing orders, exactly 5 sold, every round", async () => {
    const ROUNDS = 6;
    const web = await storefrontKey("web");
    const app = await storefrontKey("app");
    for (let round = 0; round < ROUNDS; round++) {
      const { loc, sku } = await world({
        locations: { shop: { km: 1 }, depot: { km: 30, kind: "warehouse", pickup: false } },
        products: { shoe: {} },
        stock: { shoe: { shop: 3, depot: 2 } },
      });
      const till = await storeKey(loc.shop);
      const line = [{ sku: sku.shoe, quantity: 1 }];
      const delivery = { lines: line, fulfilment: deliveryTo(), payment: paid("prepaid") };
      const callers = [
        { key: web, body: delivery },
        { key: app, body: delivery },
        { key: till, body: { lines: line, fulfilment: inStore(), payment: paid("paid_in_store") } },
        { key: undefined, body: { channel: "call_centre", lines: line, fulfilment: pickupAt(loc.shop), payment: paid("prepaid") } },
      ];
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => placeOrder(callers[i % 4].body, { key: callers[i % 4].key })));
      const sold = answers.filter((a) => a.status === 201);
      const refused = answers.filter((a) => a.status !== 201);
      for (const r of refused) assert.deepEqual([r.status, r.json.code], [409, "insufficient_stock"], JSON.stringify(r.json));
      const left = [await counts(sku.shoe, loc.shop), await counts(sku.shoe, loc.depot)];
      assert.equal(sold.length, 5, `round ${round}: ${sold.length} sold while ${left.map((l) => l.available).join("+")} stayed available`);
      assert.deepEqual(left.map((l) => l.available), [0, 0]);
    }
  });
});
