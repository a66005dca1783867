// Orders from every channel: where each line's units come from (a pickup store, the
// POS store, the nearest shipping locations), what the order costs (subtotal, coupon,
// delivery band), all-or-nothing placement, the lifecycle and its stock effects, who
// may move an order on, a customer's orders across channels and a store's pickups.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call } from "./api.mjs";
import {
  act, counts, deliveryTo, eur, inStore, newCoupon, newCustomer, ordersOf, paid, pickupAt, placed, placeOrder,
  storefrontKey, storeKey, world,
} from "./retail-fixtures.mjs";

const line = (sku, quantity = 1) => ({ sku, quantity });
const statuses = (order) => order.history.map((h) => h.status);

/** Asserts an order attempt was refused with `status` and `code`. */
function refused(answer, status, code) {
  assert.deepEqual([answer.status, answer.json.code], [status, code], JSON.stringify(answer.json));
  assert.equal(answer.headers.get("content-type"), "application/problem+json");
}

describe("where an order's units come from", () => {
  test("a pickup takes its units from the pickup store only", async () => {
    const { loc, sku } = await world({
      locations: { shop: {}, other: {}, depot: { kind: "warehouse", pickup: false } },
      products: { shoe: {} },
      stock: { shoe: { shop: 2, other: 10, depot: 10 } },
    });
    const tooMany = await placeOrder({ channel: "web", lines: [line(sku.shoe, 3)], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") });
    refused(tooMany, 409, "insufficient_stock");
    assert.deepEqual(tooMany.json.short_lines, [
      { sku: sku.shoe, requested: 3, available_total: 2, available_at: [{ location_id: loc.shop, available: 2 }] },
    ], "other locations' stock does not help a pickup");

    const order = await placed({ channel: "web", lines: [line(sku.shoe, 2)], fulfilment: pickupAt(loc.shop), payment: paid("pay_on_pickup") });
    assert.equal(order.status, "placed");
    assert.deepEqual(order.fulfilment, { type: "pickup", location_id: loc.shop });
    assert.deepEqual(order.allocations, [{ sku: sku.shoe, quantity: 2, location_id: loc.shop }]);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 0, held: 0, available: 0, committed: 2 });
    assert.deepEqual(await counts(sku.shoe, loc.other), { on_hand: 10, held: 0, available: 10, committed: 0 });

    const noPickup = await placeOrder({ channel: "web", lines: [line(sku.shoe)], fulfilment: pickupAt(loc.depot), payment: paid("prepaid") });
    refused(noPickup, 422, "pickup_not_offered");
  });

  test("a delivery comes from the nearest shipping location that has every line", async () => {
    const { loc, sku } = await world({
      locations: {
        closest: { km: 0.5, ships: false },
        near: { km: 2 },
        mid: { km: 12, kind: "warehouse", pickup: false },
        far: { km: 50, kind: "warehouse", pickup: false },
      },
      products: { shoe: {}, socks: {} },
      stock: { shoe: { closest: 5, near: 5, mid: 5, far: 5 }, socks: { closest: 5, mid: 5, far: 5 } },
    });
    const order = await placed({
      channel: "web", lines: [line(sku.shoe), line(sku.socks, 2)], fulfilment: deliveryTo(), payment: paid("prepaid"),
    });
    assert.deepEqual(order.allocations, [
      { sku: sku.shoe, quantity: 1, location_id: loc.mid },
      { sku: sku.socks, quantity: 2, location_id: loc.mid },
    ], "not split although `near` is nearer for one line; `closest` does not ship");
    assert.deepEqual(order.totals.delivery_charge, eur("4.95"), "12 km: the 5-20 km band");
    assert.deepEqual(await counts(sku.socks, loc.mid), { on_hand: 3, held: 0, available: 3, committed: 2 });
    assert.deepEqual(await counts(sku.shoe, loc.near), { on_hand: 5, held: 0, available: 5, committed: 0 });
  });

  test("a delivery no one location can ship is split, nearest first; cancelling puts every unit back where it came from", async () => {
    const { loc, sku } = await world({
      locations: { near: { km: 2 }, mid: { km: 12 }, far: { km: 50 } },
      products: { shoe: { price: "5.00" }, socks: { price: "5.00" } },
      stock: { shoe: { near: 3, mid: 1 }, socks: { far: 2 } },
    });
    const order = await placed({
      channel: "app", lines: [line(sku.shoe, 4), line(sku.socks, 2)], fulfilment: deliveryTo(), payment: paid("pay_on_delivery"),
    });
    assert.deepEqual(order.allocations, [
      { sku: sku.shoe, quantity: 3, location_id: loc.near },
      { sku: sku.shoe, quantity: 1, location_id: loc.mid },
      { sku: sku.socks, quantity: 2, location_id: loc.far },
    ]);
    assert.deepEqual(order.totals, { subtotal: eur("30.00"), discount: eur("0.00"), delivery_charge: eur("7.95"), grand_total: eur("37.95") },
      "charged by the longest leg: 50 km");
    assert.equal((await counts(sku.shoe, loc.near)).committed, 3);
    assert.equal((await counts(sku.shoe, loc.mid)).committed, 1);

    const cancelled = await act(order.id, "cancel");
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.json.status, "cancelled");
    assert.deepEqual(await counts(sku.shoe, loc.near), { on_hand: 3, held: 0, available: 3, committed: 0 });
    assert.deepEqual(await counts(sku.shoe, loc.mid), { on_hand: 1, held: 0, available: 1, committed: 0 });
    assert.deepEqual(await counts(sku.socks, loc.far), { on_hand: 2, held: 0, available: 2, committed: 0 });
  });

  test("an in-store sale at the POS is born collected: the units leave at once", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const pos = await storeKey(loc.shop);
    const sale = await placed({ lines: [line(sku.shoe, 2)], fulfilment: inStore(), payment: paid("paid_in_store") }, { key: pos });
    assert.deepEqual([sale.channel, sale.location_id, sale.status], ["store", loc.shop, "collected"]);
    assert.deepEqual(sale.fulfilment, { type: "in_store", location_id: loc.shop });
    assert.deepEqual(statuses(sale), ["collected"]);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 0 });

    const noStore = await placeOrder({ channel: "web", lines: [line(sku.shoe)], fulfilment: inStore(), payment: paid("paid_in_store") });
    refused(noStore, 422, "in_store_without_store");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 0 });
  });

  test("a shortage on any line fails the whole order, naming every short line, and changes nothing", async () => {
    const { loc, sku } = await world({
      locations: { near: { km: 2 }, mid: { km: 12 }, closest: { km: 0.5, ships: false } },
      products: { shoe: {}, socks: {}, laces: {} },
      stock: { shoe: { near: 5 }, socks: { near: 1, mid: 1, closest: 9 }, laces: { mid: 2 } },
    });
    const before = await Promise.all([counts(sku.shoe, loc.near), counts(sku.socks, loc.near), counts(sku.laces, loc.mid)]);
    const pickup = await placeOrder({
      channel: "web", lines: [line(sku.shoe, 2), line(sku.socks, 2), line(sku.laces, 1)], fulfilment: pickupAt(loc.near), payment: paid("prepaid"),
    });
    refused(pickup, 409, "insufficient_stock");
    assert.deepEqual(pickup.json.short_lines, [
      { sku: sku.socks, requested: 2, available_total: 1, available_at: [{ location_id: loc.near, available: 1 }] },
      { sku: sku.laces, requested: 1, available_total: 0, available_at: [{ location_id: loc.near, available: 0 }] },
    ]);

    const delivery = await placeOrder({
      channel: "web", lines: [line(sku.shoe, 2), line(sku.socks, 3), line(sku.laces, 3)], fulfilment: deliveryTo(), payment: paid("prepaid"),
    });
    refused(delivery, 409, "insufficient_stock");
    assert.deepEqual(delivery.json.short_lines, [
      {
        sku: sku.socks, requested: 3, available_total: 2,
        available_at: [{ location_id: loc.near, available: 1 }, { location_id: loc.mid, available: 1 }],
      },
      { sku: sku.laces, requested: 3, available_total: 2, available_at: [{ location_id: loc.mid, available: 2 }] },
    ], "shipping locations only, nearest first");

    const after = await Promise.all([counts(sku.shoe, loc.near), counts(sku.socks, loc.near), counts(sku.laces, loc.mid)]);
    assert.deepEqual(after, before, "nothing held, nothing committed");
  });
});

describe("what an order costs", () => {
  const tenEuroShoes = (km) => world({ locations: { shop: { km } }, products: { shoe: { price: "10.00" } }, stock: { shoe: { shop: 30 } } });

  for (const [km, charge] of [[2, "2.95"], [12, "4.95"], [50, "7.95"]]) {
    test(`delivery from ${km} km costs ${charge}`, async () => {
      const { sku } = await tenEuroShoes(km);
      const order = await placed({ channel: "web", lines: [line(sku.shoe, 3)], fulfilment: deliveryTo(), payment: paid("prepaid") });
      assert.deepEqual(order.lines, [{ sku: sku.shoe, name: `Shoe ${sku.shoe}`, quantity: 3, unit_price: eur("10.00"), line_total: eur("30.00") }]);
      const total = (30 + Number(charge)).toFixed(2);
      assert.deepEqual(order.totals, { subtotal: eur("30.00"), discount: eur("0.00"), delivery_charge: eur(charge), grand_total: eur(total) });
    });
  }

  test("delivery beyond the last band is refused", async () => {
    const { loc, sku } = await tenEuroShoes(150);
    const answer = await placeOrder({ channel: "web", lines: [line(sku.shoe)], fulfilment: deliveryTo(), payment: paid("prepaid") });
    refused(answer, 422, "out_of_delivery_range");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 30, held: 0, available: 30, committed: 0 });
  });

  test("delivery is free from 100 after the discount; pickup is never charged", async () => {
    const { loc, sku } = await tenEuroShoes(2);
    const free = await placed({ channel: "web", lines: [line(sku.shoe, 10)], fulfilment: deliveryTo(), payment: paid("prepaid") });
    assert.deepEqual(free.totals, { subtotal: eur("100.00"), discount: eur("0.00"), delivery_charge: eur("0.00"), grand_total: eur("100.00") });

    const code = await newCoupon({ kind: "fixed_amount", amount: eur("5.00") });
    const discounted = await placed({
      channel: "web", coupon_code: code, lines: [line(sku.shoe, 10)], fulfilment: deliveryTo(), payment: paid("prepaid"),
    });
    assert.deepEqual(discounted.totals, { subtotal: eur("100.00"), discount: eur("5.00"), delivery_charge: eur("2.95"), grand_total: eur("97.95") });

    const pickup = await placed({ channel: "web", lines: [line(sku.shoe)], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") });
    assert.deepEqual(pickup.totals.delivery_charge, eur("0.00"));
    assert.deepEqual(pickup.totals.grand_total, eur("10.00"));
  });

  test("the payment method must fit how the order is fulfilled", async () => {
    const { loc, sku } = await world({ locations: { shop: { km: 2 } }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const pos = await storeKey(loc.shop);
    const misfits = [
      ["pay_on_pickup", deliveryTo(), undefined],
      ["paid_in_store", deliveryTo(), undefined],
      ["pay_on_delivery", pickupAt(loc.shop), undefined],
      ["paid_in_store", pickupAt(loc.shop), undefined],
      ["pay_on_delivery", inStore(), pos],
      ["pay_on_pickup", inStore(), pos],
    ];
    for (const [method, fulfilment, key] of misfits) {
      const body = { lines: [line(sku.shoe)], fulfilment, payment: paid(method), ...(key ? {} : { channel: "web" }) };
      const answer = await placeOrder(body, { key });
      refused(answer, 422, "payment_not_allowed");
      assert.equal(answer.json.method, method);
    }
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 5, held: 0, available: 5, committed: 0 });
    const prepaid = await placeOrder({ channel: "web", lines: [line(sku.shoe)], fulfilment: deliveryTo(), payment: { method: "prepaid", reference: "pi_123" } });
    assert.equal(prepaid.status, 201);
    assert.deepEqual(prepaid.json.payment, { method: "prepaid", reference: "pi_123" });
  });
});

describe("coupons", () => {
  const twoShoes = () => world({ locations: { shop: {} }, products: { shoe: { price: "19.99" } }, stock: { shoe: { shop: 20 } } });
  const orderTwo = (sku, store, coupon_code, quantity = 2) =>
    placeOrder({ channel: "web", coupon_code, lines: [line(sku, quantity)], fulfilment: pickupAt(store), payment: paid("prepaid") });

  test("a percent coupon takes its share of the subtotal, rounded to cents", async () => {
    const { loc, sku } = await twoShoes();
    const code = await newCoupon({ kind: "percent", percent: "10" });
    const coupon = await call("GET", `/v1/coupons/${code}`, { key: await storefrontKey("web") });
    assert.deepEqual(coupon.json, { code, kind: "percent", percent: "10", redeemed: 0 });
    const order = await orderTwo(sku.shoe, loc.shop, code.toLowerCase());
    assert.equal(order.status, 201, JSON.stringify(order.json));
    assert.equal(order.json.coupon_code, code);
    assert.deepEqual(order.json.totals, { subtotal: eur("39.98"), discount: eur("4.00"), delivery_charge: eur("0.00"), grand_total: eur("35.98") });
    assert.equal((await call("GET", `/v1/coupons/${code}`)).json.redeemed, 1);
  });

  test("a fixed coupon takes its amount off, never more than the basket", async () => {
    const { loc, sku } = await twoShoes();
    const five = await newCoupon({ kind: "fixed_amount", amount: eur("5.00") });
    assert.deepEqual((await orderTwo(sku.shoe, loc.shop, five)).json.totals,
      { subtotal: eur("39.98"), discount: eur("5.00"), delivery_charge: eur("0.00"), grand_total: eur("34.98") });
    const fifty = await newCoupon({ kind: "fixed_amount", amount: eur("50.00") });
    assert.deepEqual((await orderTwo(sku.shoe, loc.shop, fifty)).json.totals,
      { subtotal: eur("39.98"), discount: eur("39.98"), delivery_charge: eur("0.00"), grand_total: eur("0.00") });
  });

  test("an expired coupon is refused and changes nothing", async () => {
    const { loc, sku } = await twoShoes();
    const code = await newCoupon({ kind: "percent", percent: "20", expires_at: new Date(Date.now() - 60_000).toISOString() });
    refused(await orderTwo(sku.shoe, loc.shop, code), 422, "coupon_expired");
    assert.equal((await call("GET", `/v1/coupons/${code}`)).json.redeemed, 0);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 20, held: 0, available: 20, committed: 0 });
  });

  test("a coupon with a minimum basket needs that basket", async () => {
    const { loc, sku } = await twoShoes();
    const code = await newCoupon({ kind: "fixed_amount", amount: eur("10.00"), minimum_basket: eur("50.00") });
    const below = await orderTwo(sku.shoe, loc.shop, code, 2);
    refused(below, 422, "coupon_below_minimum");
    assert.deepEqual(below.json.minimum, eur("50.00"));
    const enough = await orderTwo(sku.shoe, loc.shop, code, 3);
    assert.equal(enough.status, 201);
    assert.deepEqual(enough.json.totals.discount, eur("10.00"));
    assert.deepEqual(enough.json.totals.grand_total, eur("49.97"));
  });

  test("a coupon with limited uses is refused once used up", async () => {
    const { loc, sku } = await twoShoes();
    const code = await newCoupon({ kind: "percent", percent: "50", max_redemptions: 2 });
    for (let use = 1; use <= 2; use++) assert.equal((await orderTwo(sku.shoe, loc.shop, code, 1)).status, 201, `use ${use}`);
    const third = await orderTwo(sku.shoe, loc.shop, code, 1);
    refused(third, 409, "coupon_used_up");
    const coupon = (await call("GET", `/v1/coupons/${code}`)).json;
    assert.deepEqual([coupon.max_redemptions, coupon.redeemed], [2, 2]);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 18, held: 0, available: 18, committed: 2 }, "the refused order took nothing");
  });

  test("unknown coupons are 404, and only back-office writes coupons", async () => {
    const { loc, sku } = await twoShoes();
    refused(await orderTwo(sku.shoe, loc.shop, "NO-SUCH-COUPON-XYZ"), 404, "coupon_not_found");
    const byStore = await call("PUT", "/v1/coupons/STORE-MADE", { key: await storeKey(loc.shop), body: { kind: "percent", percent: "90" } });
    assert.equal(byStore.status, 403);
  });
});

describe("an order's life", () => {
  test("a pickup is marked ready and collected; collecting hands the units over", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const pos = await storeKey(loc.shop);
    const order = await placed({ channel: "web", lines: [line(sku.shoe, 2)], fulfilment: pickupAt(loc.shop), payment: paid("pay_on_pickup") });
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 2 });

    refused(await act(order.id, "collect", pos), 409, "invalid_transition");
    const wrongKind = await act(order.id, "ship", pos);
    refused(wrongKind, 409, "invalid_transition");
    assert.deepEqual(wrongKind.json.allowed, ["mark_ready", "cancel"]);

    const ready = await act(order.id, "mark_ready", pos);
    assert.equal(ready.json.status, "ready_for_pickup");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 2 });
    const collected = await act(order.id, "collect", pos);
    assert.equal(collected.json.status, "collected");
    assert.deepEqual(statuses(collected.json), ["placed", "ready_for_pickup", "collected"]);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 0 });

    refused(await act(order.id, "cancel", pos), 409, "invalid_transition");
    assert.equal((await call("GET", `/v1/orders/${order.id}`)).json.status, "collected");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 0, available: 3, committed: 0 });
  });

  test("a delivery is shipped and delivered; shipping hands the units over", async () => {
    const { loc, sku } = await world({ locations: { depot: { km: 2, kind: "warehouse", pickup: false } }, products: { shoe: {} }, stock: { shoe: { depot: 4 } } });
    const order = await placed({ channel: "messenger", lines: [line(sku.shoe, 3)], fulfilment: deliveryTo(), payment: paid("pay_on_delivery") });
    refused(await act(order.id, "mark_ready"), 409, "invalid_transition");
    refused(await act(order.id, "deliver"), 409, "invalid_transition");

    assert.equal((await act(order.id, "ship")).json.status, "shipped");
    assert.deepEqual(await counts(sku.shoe, loc.depot), { on_hand: 1, held: 0, available: 1, committed: 0 });
    refused(await act(order.id, "cancel"), 409, "invalid_transition");
    const delivered = await act(order.id, "deliver");
    assert.equal(delivered.json.status, "delivered");
    assert.deepEqual(statuses(delivered.json), ["placed", "shipped", "delivered"]);
    assert.deepEqual(await counts(sku.shoe, loc.depot), { on_hand: 1, held: 0, available: 1, committed: 0 });
    refused(await act(order.id, "ship"), 409, "invalid_transition");
  });

  test("a pickup cancelled while waiting at the store goes back on the shelf", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const order = await placed({ channel: "call_centre", lines: [line(sku.shoe, 2)], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") });
    await act(order.id, "mark_ready");
    const cancelled = await act(order.id, "cancel");
    assert.equal(cancelled.json.status, "cancelled");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 5, held: 0, available: 5, committed: 0 });
    refused(await act(order.id, "cancel"), 409, "invalid_transition");
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 5, held: 0, available: 5, committed: 0 }, "cancelled once");
  });

  test("only the stores that fulfil an order, and back-office, move it on", async () => {
    const { loc, sku } = await world({
      locations: { near: { km: 2 }, far: { km: 50 }, elsewhere: {} },
      products: { shoe: {}, socks: {} },
      stock: { shoe: { near: 1 }, socks: { far: 1 } },
    });
    const order = await placed({ channel: "web", lines: [line(sku.shoe), line(sku.socks)], fulfilment: deliveryTo(), payment: paid("prepaid") });
    const stranger = await act(order.id, "ship", await storeKey(loc.elsewhere));
    refused(stranger, 403, "other_location");
    const storefront = await act(order.id, "ship", await storefrontKey("web"));
    assert.equal(storefront.status, 403);
    assert.equal((await call("GET", `/v1/orders/${order.id}`)).json.status, "placed");

    const shipped = await act(order.id, "ship", await storeKey(loc.far));
    assert.equal(shipped.json.status, "shipped", "a store fulfilling part of the order may ship it");
  });

  test("unknown orders and actions are 404", async () => {
    const unknown = await call("GET", `/v1/orders/ord_${"0".repeat(32)}`);
    assert.deepEqual([unknown.status, unknown.json.code], [404, "order_not_found"]);
    const noAction = await act(`ord_${"0".repeat(32)}`, "refund");
    assert.equal(noAction.status, 404);
  });
});

describe("listing orders", () => {
  test("a customer's orders from every channel, newest first, page by page", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 10 } } });
    const customer = await newCustomer();
    const customer_id = customer.id;
    const pickup = { lines: [line(sku.shoe)], fulfilment: pickupAt(loc.shop), payment: paid("prepaid"), customer_id };
    const attempts = [
      [{ ...pickup }, await storefrontKey("web")],
      [{ ...pickup }, await storefrontKey("app")],
      [{ ...pickup, fulfilment: inStore(), payment: paid("paid_in_store") }, await storeKey(loc.shop)],
      [{ ...pickup, channel: "call_centre" }, undefined],
      [{ ...pickup, channel: "marketplace" }, undefined],
    ];
    const ids = [];
    for (const [body, key] of attempts) ids.push((await placed(body, { key })).id);

    const pages = [];
    let cursor = null;
    do {
      const { status, json } = await call("GET", `/v1/orders?customer_id=${customer_id}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      assert.equal(status, 200);
      pages.push(json.items.map((o) => o.id));
      cursor = json.next_cursor;
    } while (cursor && pages.length < 10);
    assert.deepEqual(pages, [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]);

    const all = await ordersOf(customer_id);
    assert.deepEqual(all.map((o) => o.channel), ["marketplace", "call_centre", "store", "app", "web"]);
    assert.ok(all.every((o) => o.customer_id === customer_id));
    const other = await newCustomer();
    assert.deepEqual(await ordersOf(other.id), []);
  });

  test("listing needs a customer", async () => {
    const answer = await call("GET", "/v1/orders");
    assert.deepEqual([answer.status, answer.json.code], [400, "invalid_query"]);
  });

  test("a store's open pickups are its placed and ready click & collect orders", async () => {
    const { loc, sku } = await world({
      locations: { shop: { km: 2 }, other: {} },
      products: { shoe: {} },
      stock: { shoe: { shop: 10, other: 10 } },
    });
    const pos = await storeKey(loc.shop);
    const pickupHere = (channel) => placed({ channel, lines: [line(sku.shoe)], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") });
    const waiting = await pickupHere("web");
    const ready = await pickupHere("app");
    await act(ready.id, "mark_ready", pos);
    const collected = await pickupHere("web");
    await act(collected.id, "mark_ready", pos);
    await act(collected.id, "collect", pos);
    const cancelled = await pickupHere("call_centre");
    await act(cancelled.id, "cancel", pos);
    await placed({ channel: "web", lines: [line(sku.shoe)], fulfilment: pickupAt(loc.other), payment: paid("prepaid") });
    await placed({ lines: [line(sku.shoe)], fulfilment: inStore(), payment: paid("paid_in_store") }, { key: pos });

    const pickups = await call("GET", `/v1/locations/${loc.shop}/pickups`, { key: pos });
    assert.equal(pickups.status, 200);
    assert.deepEqual(pickups.json.items.map((o) => [o.id, o.status]), [[waiting.id, "placed"], [ready.id, "ready_for_pickup"]]);
    assert.deepEqual((await call("GET", `/v1/locations/${loc.shop}/pickups`)).json.items.map((o) => o.id), [waiting.id, ready.id]);

    const otherStore = await call("GET", `/v1/locations/${loc.other}/pickups`, { key: pos });
    assert.deepEqual([otherStore.status, otherStore.json.code], [403, "other_location"]);
  });
});
