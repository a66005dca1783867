// Returns and exchanges from any channel to any location (issue 8), against workerd:
// a web order returned at a store that never stocked the SKU; the sneaker journey
// (call centre opens a defective exchange at the nearest store that has the pair, the
// store sees it expected, receives it, hands over the replacement, the goodwill coupon
// is redeemed online); refusals that change nothing; refunds to the cent over partial
// returns; racing duplicate submissions; damaged units never available.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BASE, call, concurrently, expectProblem, expectStatus, fresh, issueKey, location, product, stock, uid } from "./api.mjs";
import { act, counts, deliveryTo, kmNorth, newCustomer, paid, pickupAt, placed, storeKey, storefrontKey, world } from "./retail-fixtures.mjs";

const cents = (money) => Math.round(Number(money.amount) * 100);

/** Opens a return; answers the raw answer. */
const openReturn = (body, { key, idempotencyKey = fresh("ret"), headers = {} } = {}) =>
  call("POST", "/v1/returns", { body, key, headers: { "idempotency-key": idempotencyKey, ...headers } });

const moveReturn = (id, action, body, { key, idempotencyKey = fresh(action) } = {}) =>
  call("POST", `/v1/returns/${id}/${action}`, { body, key, headers: { "idempotency-key": idempotencyKey } });

const line = (sku, quantity, code = "changed_mind", extra = {}) => ({ sku, quantity, reason: { code }, ...extra });

/** A web order delivered to HOME from `from`, for `customer` (optional). */
async function deliveredWebOrder(lines, { webKey, customerId, coupon } = {}) {
  const body = { lines, fulfilment: deliveryTo(), payment: { method: "prepaid", reference: `psp_${uid()}` } };
  if (!webKey) body.channel = "web";
  if (customerId) body.customer_id = customerId;
  if (coupon) body.coupon_code = coupon;
  const order = await placed(body, { key: webKey });
  expectStatus(await act(order.id, "ship"), 200, "ship");
  expectStatus(await act(order.id, "deliver"), 200, "deliver");
  return order;
}

const returnsOf = async (orderId) => expectStatus(await call("GET", `/v1/returns?order_id=${orderId}`), 200, "returns of order").items;

describe("returns", () => {
  test("a web order returned at a store that never stocked the SKU: on hand there at once, seen by another channel", async () => {
    const { loc, sku } = await world({
      locations: { depot: { kind: "warehouse", km: 3, pickup: false }, store: { km: 5 } },
      products: { tee: { price: "19.99" } },
      stock: { tee: { depot: 4 } },
    });
    const webKey = await storefrontKey("web");
    const order = await deliveredWebOrder([{ sku: sku.tee, quantity: 2 }], { webKey });
    const before = await counts(sku.tee, loc.store);
    assert.deepEqual(before, { on_hand: 0, held: 0, available: 0, committed: 0 }, "the store never stocked it");

    const callCentre = await storefrontKey("call_centre");
    const opened = expectStatus(await openReturn({ order_id: order.id, location_id: loc.store, lines: [line(sku.tee, 1, "wrong_size")] }, { key: callCentre }), 201, "open");
    assert.equal(opened.status, "requested");
    assert.equal(opened.channel, "call_centre");
    assert.equal(opened.history[0].status, "requested");

    const pos = await storeKey(loc.store);
    const received = expectStatus(await moveReturn(opened.id, "receive", { lines: [{ sku: sku.tee, condition: "resellable" }] }, { key: pos }), 200, "receive");
    assert.equal(received.status, "received");
    assert.equal(received.receipt.location_id, loc.store);
    assert.deepEqual(received.history.map((s) => s.status), ["requested", "received"]);

    const appKey = await storefrontKey("app");
    const seen = expectStatus(await call("GET", `/v1/stock/${sku.tee}`, { key: appKey }), 200, "lookup from the app");
    const atStore = seen.locations.find((l) => l.location_id === loc.store);
    assert.equal(atStore?.on_hand, 1, "the app sees the returned unit at the store at once");
    assert.equal(atStore?.available, 1);

    // Another store's key cannot receive it; a second receipt is refused; both change nothing.
    const otherPos = await storeKey(loc.depot);
    expectProblem(await moveReturn(opened.id, "receive", { location_id: loc.store, lines: [{ sku: sku.tee, condition: "resellable" }] }, { key: otherPos }), 403, "other_location");
    expectProblem(await moveReturn(opened.id, "receive", { lines: [{ sku: sku.tee, condition: "resellable" }] }, { key: pos }), 409, "invalid_return_transition");
    assert.equal((await counts(sku.tee, loc.store)).on_hand, 1);

    // Refunded to the original payment, with the PSP reference recorded.
    const refunded = expectStatus(await moveReturn(opened.id, "refund", { method: "original_payment", psp_reference: "re_123" }), 200, "refund");
    assert.deepEqual(refunded.refunded_to, { method: "original_payment", psp_reference: "re_123" });
    assert.deepEqual((await returnsOf(order.id)).map((r) => [r.id, r.status]), [[opened.id, "refunded"]]);
  });

  test("the sneaker journey: call centre, nearest store with the pair, replacement held, received, handed over, goodwill redeemed online", async () => {
    const run = uid();
    const [depot, near, far] = [`depot-${run}`, `near-${run}`, `far-${run}`];
    await location(depot, { kind: "warehouse", at: kmNorth(40), pickup: false });
    await location(near, { at: kmNorth(2), ships: false });
    await location(far, { at: kmNorth(6), ships: false });
    const [pair, otherSize, socks] = [`RUN-42-${run}`, `RUN-43-${run}`, `SOCK-${run}`];
    await product(pair, { style: `RUN-${run}`, size: "42", price: "89.95" });
    await product(otherSize, { style: `RUN-${run}`, size: "43", price: "89.95" });
    await product(socks, { price: "9.95" });
    await stock(pair, depot, 1);
    await stock(pair, far, 2);
    await stock(socks, depot, 10);
    const runner = await newCustomer({ name: "Runner" });
    const order = await deliveredWebOrder([{ sku: pair, quantity: 1 }], { webKey: await storefrontKey("web"), customerId: runner.id });

    // The agent tries the nearest store: it has none of the pair, and the answer lists where it is.
    const callCentre = await storefrontKey("call_centre");
    const defective = (at) => ({ order_id: order.id, location_id: at, lines: [line(pair, 1, "defective", { replacement_sku: pair })] });
    const none = expectProblem(await openReturn(defective(near), { key: callCentre }), 409, "replacement_unavailable");
    assert.equal(none.nearest[0].location_id, far, "the nearest store with the pair");
    assert.equal(none.nearest[0].available, 2);
    assert.deepEqual(await returnsOf(order.id), [], "a refused opening leaves nothing");
    // Another style is refused; so is another price.
    expectProblem(await openReturn({ ...defective(far), lines: [line(pair, 1, "wrong_size", { replacement_sku: socks })] }, { key: callCentre }), 422, "replacement_other_style");

    const opened = expectStatus(await openReturn(defective(far), { key: callCentre }), 201, "open at the far store");
    assert.equal(opened.replacement.location_id, far);
    assert.deepEqual(opened.replacement.lines.map((l) => [l.sku, l.quantity]), [[pair, 1]]);
    assert.equal(opened.goodwill.kind, "coupon");
    assert.equal(cents(opened.lines[0].refund), 0, "an exchanged unit refunds nothing: the replacement is what it paid for");
    assert.ok(Date.parse(opened.replacement.held_until) - Date.now() > 2.9 * 86400e3, "held for 3 days");
    const held = await counts(pair, far);
    assert.deepEqual([held.held, held.available], [1, 1], "the pair is held at the far store in every lookup");
    const appLookup = expectStatus(await call("GET", `/v1/stock/${pair}`, { key: await storefrontKey("app") }), 200, "app lookup");
    assert.equal(appLookup.locations.find((l) => l.location_id === far).held, 1);

    // The store sees it expected, with the pair set aside; another store does not see it.
    const pos = await storeKey(far);
    const expected = expectStatus(await call("GET", `/v1/locations/${far}/returns`, { key: pos }), 200, "expected").items;
    assert.deepEqual(expected.map((r) => r.id), [opened.id]);
    assert.equal(expected[0].replacement.lines[0].sku, pair);
    expectProblem(await call("GET", `/v1/locations/${far}/returns`, { key: await storeKey(near) }), 403, "other_location");
    // Receiving elsewhere than where the pair is held is refused.
    expectProblem(await moveReturn(opened.id, "receive", { location_id: near, lines: [{ sku: pair, condition: "damaged" }] }), 409, "replacement_held_elsewhere");

    // The associate takes the defective pair back (damaged) and hands over the new one.
    const received = expectStatus(await moveReturn(opened.id, "receive", { lines: [{ sku: pair, condition: "damaged" }] }, { key: pos }), 200, "receive");
    assert.equal(received.status, "received");
    const linked = expectStatus(await call("GET", `/v1/orders/${received.replacement.order_id}`), 200, "the replacement order");
    assert.equal(linked.channel, "store");
    assert.equal(linked.location_id, far);
    assert.equal(linked.status, "collected");
    assert.deepEqual(linked.fulfilment, { type: "in_store", location_id: far });
    assert.equal(cents(linked.totals.grand_total), 0, "nothing to pay at equal price");
    assert.equal(linked.customer_id, runner.id);
    const after = await counts(pair, far);
    assert.deepEqual([after.on_hand, after.held, after.available], [1, 0, 1], "the new pair left the store, the damaged one never entered stock");
    const damaged = expectStatus(await call("GET", `/v1/locations/${far}/damaged-units`, { key: pos }), 200, "damaged").items;
    assert.deepEqual(damaged.map((d) => [d.return_id, d.sku, d.quantity]), [[opened.id, pair, 1]]);
    expectProblem(await call("GET", `/v1/locations/${near}/returns`, { key: pos }), 403, "other_location");

    // The return shows on the runner's timeline; the goodwill coupon is redeemed by a web order.
    const timeline = expectStatus(await call("GET", `/v1/customers/${runner.id}/timeline`), 200, "timeline").items;
    assert.ok(timeline.some((e) => e.kind === "return" && e.id === opened.id && e.status === "received"));
    const code = received.goodwill.code;
    const coupon = expectStatus(await call("GET", `/v1/coupons/${code}`), 200, "goodwill coupon");
    assert.deepEqual([coupon.kind, coupon.percent, coupon.max_redemptions, coupon.redeemed], ["percent", "10", 1, 0]);
    const web = await storefrontKey("web");
    const next = await placed({ lines: [{ sku: socks, quantity: 2 }], fulfilment: deliveryTo(), payment: paid("prepaid"), coupon_code: code }, { key: web });
    assert.equal(next.totals.discount.amount, "1.99", "10 % off 19.90");
    const again = await call("POST", "/v1/orders", {
      key: web, headers: { "idempotency-key": fresh("o") },
      body: { lines: [{ sku: socks, quantity: 1 }], fulfilment: deliveryTo(), payment: paid("prepaid"), coupon_code: code },
    });
    expectProblem(again, 409, "coupon_used_up");
  });

  test("over-return, a cancelled order and a closed window are refused with 422 and change nothing", async () => {
    const { loc, sku } = await world({ locations: { store: { km: 1 } }, products: { cap: {} }, stock: { cap: { store: 5 } } });
    const order = await deliveredWebOrder([{ sku: sku.cap, quantity: 1 }]);
    const ask = (quantity, code = "changed_mind") => ({ order_id: order.id, location_id: loc.store, lines: [line(sku.cap, quantity, code)] });
    const before = await counts(sku.cap, loc.store);

    const over = expectProblem(await openReturn(ask(2)), 422, "over_return");
    assert.deepEqual([over.sku, over.requested, over.returnable], [sku.cap, 2, 1]);
    const late = expectProblem(await openReturn(ask(1), { headers: { "x-omniedge-clock-offset-days": "15" } }), 422, "return_window_closed");
    assert.equal(late.days, 14);
    // Defective goods keep a longer window; the same clock accepts them (then the return is cancelled).
    const defective = expectStatus(await openReturn(ask(1, "defective"), { headers: { "x-omniedge-clock-offset-days": "15" } }), 201, "defective late");
    expectStatus(await moveReturn(defective.id, "cancel"), 200, "cancel");
    expectProblem(await openReturn(ask(1, "other")), 422, "invalid_body");
    expectProblem(await openReturn({ ...ask(1), lines: [line(`NOPE-${uid()}`, 1)] }), 422, "unknown_line");

    const pickup = await placed({ channel: "web", lines: [{ sku: sku.cap, quantity: 1 }], fulfilment: pickupAt(loc.store), payment: paid("pay_on_pickup") });
    expectStatus(await act(pickup.id, "cancel"), 200, "cancel order");
    expectProblem(await openReturn({ order_id: pickup.id, location_id: loc.store, lines: [line(sku.cap, 1)] }), 422, "order_cancelled");
    const open = await placed({ channel: "web", lines: [{ sku: sku.cap, quantity: 1 }], fulfilment: pickupAt(loc.store), payment: paid("pay_on_pickup") });
    expectProblem(await openReturn({ order_id: open.id, location_id: loc.store, lines: [line(sku.cap, 1)] }), 422, "not_handed_over");

    assert.deepEqual((await returnsOf(order.id)).map((r) => r.status), ["cancelled"], "only the cancelled defective return");
    assert.deepEqual(await returnsOf(pickup.id), []);
    const after = await counts(sku.cap, loc.store);
    assert.deepEqual([after.on_hand, after.held], [before.on_hand - 1, 0], "only the open pickup's unit is committed");
  });

  test("a 3-line order with a coupon and delivery, returned in two parts, refunds exactly what was paid; a third is refused", async () => {
    const { loc, sku } = await world({
      locations: { store: { km: 2 } },
      products: { shoe: { price: "29.99" }, sock: { price: "14.95" }, cap: { price: "9.99" } },
      stock: { shoe: { store: 3 }, sock: { store: 3 }, cap: { store: 5 } },
    });
    const code = `R-${uid().toUpperCase()}`;
    expectStatus(await call("PUT", `/v1/coupons/${code}`, { body: { kind: "percent", percent: "10" } }), 201, "coupon");
    const customer = await newCustomer();
    const order = await deliveredWebOrder(
      [{ sku: sku.shoe, quantity: 1 }, { sku: sku.sock, quantity: 2 }, { sku: sku.cap, quantity: 3 }],
      { customerId: customer.id, coupon: code },
    );
    assert.ok(cents(order.totals.discount) > 0 && cents(order.totals.delivery_charge) > 0, "a discount and a delivery charge");
    const first = expectStatus(await openReturn({ order_id: order.id, location_id: loc.store, lines: [line(sku.shoe, 1), line(sku.cap, 1, "wrong_size")] }), 201, "first");
    assert.equal(cents(first.refund.delivery), 0, "not all back, nothing defective: no delivery refund");
    const second = expectStatus(await openReturn({ order_id: order.id, location_id: loc.store, lines: [line(sku.sock, 2), line(sku.cap, 2)] }), 201, "second");
    assert.equal(cents(second.refund.delivery), cents(order.totals.delivery_charge), "the whole order is back: delivery refunded");
    assert.equal(cents(first.refund.total) + cents(second.refund.total), cents(order.totals.grand_total), "to the cent");
    for (const r of [first, second]) assert.equal(r.lines.reduce((s, l) => s + cents(l.refund), 0) + cents(r.refund.delivery), cents(r.refund.total));
    const third = expectProblem(await openReturn({ order_id: order.id, location_id: loc.store, lines: [line(sku.cap, 1)] }), 422, "over_return");
    assert.equal(third.returnable, 0);

    // Received at the store, refunded as store credit: the customer's balance is the refund.
    const pos = await storeKey(loc.store);
    const lines = (r) => r.lines.map((l) => ({ sku: l.sku, condition: "resellable" }));
    for (const r of [first, second]) expectStatus(await moveReturn(r.id, "receive", { lines: lines(r) }, { key: pos }), 200, "receive");
    expectStatus(await moveReturn(first.id, "refund", { method: "store_credit" }, { key: pos }), 200, "store credit");
    const credit = expectStatus(await call("GET", `/v1/customers/${customer.id}/store-credit`), 200, "balance");
    assert.deepEqual(credit.balances.map(cents), [cents(first.refund.total)]);
    expectProblem(await moveReturn(first.id, "refund", { method: "store_credit" }, { key: pos }), 409, "invalid_return_transition");
    assert.deepEqual(expectStatus(await call("GET", `/v1/customers/${customer.id}/store-credit`), 200, "balance").balances.map(cents), [cents(first.refund.total)], "credited once");
  });

  test("concurrent duplicate submissions, same key and different keys: one return, at most the returnable quantity, goodwill once", async () => {
    const { loc, sku } = await world({ locations: { depot: { kind: "warehouse", km: 3, pickup: false }, store: { km: 1 } }, products: { bag: {} }, stock: { bag: { depot: 5 } } });
    const order = await deliveredWebOrder([{ sku: sku.bag, quantity: 2 }]);
    const body = { order_id: order.id, location_id: loc.store, lines: [line(sku.bag, 2, "defective")] };
    const sameKey = fresh("same");
    const answers = await concurrently(8, (i) => openReturn(body, { idempotencyKey: i < 4 ? sameKey : fresh("other") }));
    for (const a of answers) assert.ok([201, 409, 422].includes(a.status), `${a.status} ${JSON.stringify(a.json)}`);
    for (const a of answers.filter((a) => a.status === 422)) assert.equal(a.json.code, "over_return");
    const returns = (await returnsOf(order.id)).filter((r) => r.status === "requested");
    assert.equal(returns.length, 1, "one return");
    assert.equal(returns[0].lines[0].quantity, 2);
    const created = new Set(answers.filter((a) => a.status === 201).map((a) => a.json.id));
    assert.deepEqual([...created], [returns[0].id], "every success names the one return");

    // Receipts race too (same and different keys): one receipt, units on hand once, one coupon.
    const pos = await storeKey(loc.store);
    const receiptKey = fresh("rcv");
    const receipts = await concurrently(6, (i) =>
      moveReturn(returns[0].id, "receive", { lines: [{ sku: sku.bag, condition: "resellable" }] }, { key: pos, idempotencyKey: i < 3 ? receiptKey : fresh("rcv") }),
    );
    for (const a of receipts) assert.ok([200, 409].includes(a.status), `${a.status} ${JSON.stringify(a.json)}`);
    assert.ok(receipts.some((a) => a.status === 200));
    assert.equal((await counts(sku.bag, loc.store)).on_hand, 2, "received once");
    const codes = new Set(receipts.filter((a) => a.status === 200).map((a) => a.json.goodwill.code));
    assert.equal(codes.size, 1, "one goodwill coupon");
    const coupon = expectStatus(await call("GET", `/v1/coupons/${[...codes][0]}`), 200, "coupon");
    assert.equal(coupon.max_redemptions, 1);
  });

  test("damaged units never become available; a shopper opens and cancels a return of their own order", async () => {
    const { loc, sku } = await world({ locations: { store: { km: 1 } }, products: { mug: {} }, stock: { mug: { store: 2 } } });
    const customer = await newCustomer();
    const order = await placed({ channel: "web", customer_id: customer.id, lines: [{ sku: sku.mug, quantity: 2 }], fulfilment: pickupAt(loc.store), payment: paid("pay_on_pickup") });
    for (const a of ["mark_ready", "collect"]) expectStatus(await act(order.id, a), 200, a);
    assert.equal((await counts(sku.mug, loc.store)).on_hand, 0);

    const secretWeb = await storefrontKey("web");
    const token = expectStatus(await call("POST", "/v1/shopper-sessions", { key: secretWeb, body: { customer_id: customer.id } }), 201, "session").token;
    const publishable = (await issueKey({ role: "publishable", channel: "web", allowed_origins: ["https://shop.returns.test"] })).secret;
    const asShopper = { key: publishable, headers: { "x-shopper-token": token } };
    const mine = expectStatus(
      await call("POST", "/v1/returns", { ...asShopper, headers: { ...asShopper.headers, "idempotency-key": fresh("s") }, body: { order_id: order.id, location_id: loc.store, lines: [line(sku.mug, 1)] } }),
      201, "shopper opens",
    );
    assert.equal(mine.channel, "web");
    expectStatus(await call("POST", `/v1/returns/${mine.id}/cancel`, { ...asShopper, headers: { ...asShopper.headers, "idempotency-key": fresh("c") } }), 200, "shopper cancels");
    expectProblem(await call("POST", `/v1/returns/${mine.id}/receive`, { ...asShopper, headers: { ...asShopper.headers, "idempotency-key": fresh("r") }, body: { location_id: loc.store, lines: [] } }), 403, "publishable_key_not_allowed");

    const pos = await storeKey(loc.store);
    const ret = expectStatus(await openReturn({ order_id: order.id, location_id: loc.store, lines: [line(sku.mug, 2, "changed_mind")] }, { key: pos }), 201, "POS opens on the spot");
    expectStatus(await moveReturn(ret.id, "receive", { lines: [{ sku: sku.mug, condition: "damaged" }] }, { key: pos }), 200, "receive damaged");
    const level = await counts(sku.mug, loc.store);
    assert.deepEqual([level.on_hand, level.available], [0, 0], "damaged units never become available");
    const damagedAt = async () => expectStatus(await call("GET", `/v1/locations/${loc.store}/damaged-units`, { key: pos }), 200, "damaged");
    const damaged = await damagedAt();
    assert.deepEqual(damaged.items.map((d) => [d.sku, d.quantity]), [[sku.mug, 2]]);
    assert.deepEqual(damaged.counts, [{ sku: sku.mug, received: 2, written_off: 0, remaining: 2 }]);

    // Written off by adjustment: who, when and why recorded; a retry replays; never below zero.
    const writeOff = (quantity, { key = pos, idempotencyKey = fresh("wo"), reason = "shattered" } = {}) =>
      call("POST", `/v1/locations/${loc.store}/damaged-units/write-offs`, { key, body: { sku: sku.mug, quantity, reason }, headers: { "idempotency-key": idempotencyKey } });
    const over = expectProblem(await writeOff(3), 422, "write_off_exceeds_damaged");
    assert.deepEqual([over.requested, over.remaining], [3, 2]);
    const otherStore = `wo-other-${uid()}`;
    await location(otherStore);
    expectProblem(await writeOff(1, { key: await storeKey(otherStore) }), 403, "other_location");
    const onceKey = fresh("wo");
    const first = expectStatus(await writeOff(1, { idempotencyKey: onceKey }), 201, "write off one");
    assert.deepEqual([first.sku, first.quantity, first.reason, first.location_id], [sku.mug, 1, "shattered", loc.store]);
    assert.ok(first.by.length > 0 && Date.parse(first.at) > 0, "who and when");
    const replay = await writeOff(1, { idempotencyKey: onceKey });
    assert.deepEqual([replay.status, replay.headers.get("idempotent-replayed"), replay.json.id], [201, "true", first.id]);
    expectProblem(await writeOff(1, { idempotencyKey: onceKey, reason: "other" }), 422, "idempotency_key_reused");
    // Racing write-offs of the one unit left: exactly one lands.
    const raced = await concurrently(5, () => writeOff(1));
    assert.deepEqual(raced.map((a) => a.status).sort(), [201, 422, 422, 422, 422], JSON.stringify(raced.map((a) => a.json)));
    const after = await damagedAt();
    assert.deepEqual(after.counts, [{ sku: sku.mug, received: 2, written_off: 2, remaining: 0 }]);
    assert.deepEqual(after.write_offs.map((w) => w.quantity), [1, 1]);
    expectProblem(await writeOff(1), 422, "write_off_exceeds_damaged");
    assert.deepEqual((await damagedAt()).counts[0].remaining, 0, "a refused write-off changes nothing");
    assert.deepEqual(await counts(sku.mug, loc.store), level, "written-off units never touch stock");
    // Rejected by the store with a reason: recorded with who and when; it cannot be refunded.
    await stock(sku.mug, loc.store, 1);
    const other = await placed({ channel: "web", customer_id: customer.id, lines: [{ sku: sku.mug, quantity: 1 }], fulfilment: pickupAt(loc.store), payment: paid("pay_on_pickup") });
    for (const a of ["mark_ready", "collect"]) expectStatus(await act(other.id, a), 200, a);
    const asked = expectStatus(await openReturn({ order_id: other.id, location_id: loc.store, lines: [line(sku.mug, 1)] }), 201, "open");
    const elsewhere = `elsewhere-${uid()}`;
    await location(elsewhere);
    expectProblem(await moveReturn(asked.id, "reject", { reason: "worn" }, { key: await storeKey(elsewhere) }), 403, "other_location");
    const rejected = expectStatus(await moveReturn(asked.id, "reject", { reason: "worn outside" }, { key: pos }), 200, "reject");
    assert.deepEqual([rejected.status, rejected.reason], ["rejected", "worn outside"]);
    assert.deepEqual(rejected.history.map((s) => s.status), ["requested", "rejected"]);
    assert.ok(rejected.history[1].by.length > 0 && Date.parse(rejected.history[1].at) > 0);
    expectProblem(await moveReturn(asked.id, "refund", { method: "store_credit" }), 409, "invalid_return_transition");
    const listed = expectStatus(await call("GET", `/v1/returns?status=received&location_id=${loc.store}`), 200, "back office list").items;
    assert.deepEqual(listed.map((r) => r.id), [ret.id]);
    expectProblem(await call("GET", `/v1/returns?status=received`, { key: pos }), 403, "admin_only");
  });

  test("a receipt that dies after its write converges through the sweeper; its retry replays; cancelling releases the replacement", async () => {
    const run = uid();
    const [shop, depot] = [`shop-${run}`, `depot-${run}`];
    await location(depot, { kind: "warehouse", at: kmNorth(3), pickup: false });
    await location(shop, { at: kmNorth(1), ships: false });
    const [small, large] = [`TEE-S-${run}`, `TEE-L-${run}`];
    await product(small, { style: `TEE-${run}`, size: "S", price: "24.95" });
    await product(large, { style: `TEE-${run}`, size: "L", price: "24.95" });
    await stock(small, depot, 3);
    await stock(large, shop, 2);
    const order = await deliveredWebOrder([{ sku: small, quantity: 2 }]);
    const sweep = async () => (await fetch(`${BASE}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`)).text();

    // Another size, same price: held at the shop; cancelling the return lets it go.
    const exchange = { order_id: order.id, location_id: shop, lines: [line(small, 1, "wrong_size", { replacement_sku: large })] };
    const first = expectStatus(await openReturn(exchange), 201, "exchange");
    assert.equal((await counts(large, shop)).held, 1);
    expectStatus(await moveReturn(first.id, "cancel"), 200, "cancel");
    assert.deepEqual(await counts(large, shop), { on_hand: 2, held: 0, available: 2, committed: 0 }, "the hold is released");

    // The second exchange's receipt dies right after its write: D1 says received at once,
    // the stock catches up with the sweeper, and the retry replays the answer.
    const second = expectStatus(await openReturn({ ...exchange, lines: [line(small, 2, "wrong_size", { replacement_sku: large })] }), 201, "exchange two");
    const receipt = { location_id: shop, lines: [{ sku: small, condition: "resellable" }] };
    const key = fresh("rcv");
    const died = await call("POST", `/v1/returns/${second.id}/receive`, { body: receipt, headers: { "idempotency-key": key, "x-omniedge-fault": "after_return_write" } });
    assert.equal(died.status, 500, JSON.stringify(died.json));
    assert.equal(expectStatus(await call("GET", `/v1/returns/${second.id}`), 200, "read").status, "received");
    await sweep();
    assert.deepEqual(await counts(small, shop), { on_hand: 2, held: 0, available: 2, committed: 0 }, "the returned units are on hand once");
    assert.deepEqual(await counts(large, shop), { on_hand: 0, held: 0, available: 0, committed: 0 }, "the replacement was handed over");
    await sweep();
    assert.equal((await counts(small, shop)).on_hand, 2, "a second sweep changes nothing");
    const replay = await call("POST", `/v1/returns/${second.id}/receive`, { body: receipt, headers: { "idempotency-key": key } });
    assert.equal(replay.status, 200);
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    const linked = expectStatus(await call("GET", `/v1/orders/${replay.json.replacement.order_id}`), 200, "linked order");
    assert.deepEqual(linked.lines.map((l) => [l.sku, l.quantity]), [[large, 2]]);
  });

  test("goodwill as a gift: handed over at the receiving store at zero price, stock taken from there, issued once under racing receipts", async () => {
    // scripts/test.sh: GOODWILL_REASONS=defective,not_as_described, GOODWILL_OFFER=coupon:10:90,not_as_described=gift:GW-GIFT-SOCKS
    const gift = "GW-GIFT-SOCKS";
    await product(gift, { price: "4.95" });
    const { loc, sku } = await world({
      locations: { depot: { kind: "warehouse", km: 3, pickup: false }, store: { km: 1 }, other: { km: 2 } },
      products: { jacket: { price: "59.00" } },
      stock: { jacket: { depot: 2 } },
    });
    await stock(gift, loc.store, 3);
    await stock(gift, loc.other, 3);
    const customer = await newCustomer();
    const order = await deliveredWebOrder([{ sku: sku.jacket, quantity: 1 }], { customerId: customer.id });
    const opened = expectStatus(await openReturn({ order_id: order.id, location_id: loc.store, lines: [line(sku.jacket, 1, "not_as_described")] }), 201, "open");
    assert.deepEqual(opened.goodwill, { kind: "gift", sku: gift });
    assert.deepEqual(opened.replacement.lines.map((l) => [l.sku, l.quantity]), [[gift, 1]]);
    assert.deepEqual(opened.replacement.balance_due, { amount: "0.00", currency: "EUR" });
    assert.equal(opened.refund.lines.amount, "59.00", "the gift takes nothing off the refund");
    assert.deepEqual([(await counts(gift, loc.store)).held, (await counts(gift, loc.other)).held], [1, 0], "set aside at the receiving store only");

    const pos = await storeKey(loc.store);
    const receipts = await concurrently(4, () => moveReturn(opened.id, "receive", { lines: [{ sku: sku.jacket, condition: "resellable" }] }, { key: pos }));
    assert.deepEqual(receipts.map((a) => a.status).sort(), [200, 409, 409, 409], JSON.stringify(receipts.map((a) => a.json.code ?? a.json.status)));
    const received = receipts.find((a) => a.status === 200).json;
    assert.equal(received.goodwill.kind, "gift");
    const linked = expectStatus(await call("GET", `/v1/orders/${received.replacement.order_id}`), 200, "linked order");
    assert.deepEqual(linked.lines.map((l) => [l.sku, l.quantity, l.unit_price.amount]), [[gift, 1, "4.95"]]);
    assert.deepEqual([linked.totals.discount.amount, cents(linked.totals.grand_total)], ["4.95", 0], "handed over at zero price");
    assert.deepEqual([linked.channel, linked.location_id, linked.customer_id], ["store", loc.store, customer.id]);
    assert.deepEqual(await counts(gift, loc.store), { on_hand: 2, held: 0, available: 2, committed: 0 }, "one gift left the receiving store");
    assert.deepEqual(await counts(gift, loc.other), { on_hand: 3, held: 0, available: 3, committed: 0 });
    assert.equal((await counts(sku.jacket, loc.store)).on_hand, 1, "the jacket is back on hand where received");
    // A retried receipt issues nothing more.
    expectProblem(await moveReturn(opened.id, "receive", { lines: [{ sku: sku.jacket, condition: "resellable" }] }, { key: pos }), 409, "invalid_return_transition");
    assert.equal((await counts(gift, loc.store)).on_hand, 2);
    const shown = expectStatus(await call("GET", `/v1/orders/${order.id}`), 200, "order").returns;
    assert.deepEqual(shown.map((r) => [r.id, r.status, r.replacement_order_id]), [[opened.id, "received", linked.id]]);
  });

  test("exchanges at another price: a dearer replacement is paid at the till, a cheaper one's difference refunded; refunds never exceed what was paid", async () => {
    const run = uid();
    const [shop, depot] = [`shop-${run}`, `depot-${run}`];
    await location(depot, { kind: "warehouse", at: kmNorth(3), pickup: false });
    await location(shop, { at: kmNorth(1), ships: false });
    const style = `JKT-${run}`;
    const [medium, premium, basic, usd] = ["M", "PRO", "LITE", "US"].map((v) => `${style}-${v}`);
    await product(medium, { style, size: "M", price: "59.90" });
    await product(premium, { style, size: "L", price: "74.90" });
    await product(basic, { style, size: "S", price: "49.95" });
    await product(usd, { style, size: "XL", price: "59.90", currency: "USD" });
    await stock(medium, depot, 4);
    await stock(premium, shop, 2);
    await stock(basic, shop, 2);
    const customer = await newCustomer();
    const code = `X-${uid().toUpperCase()}`;
    expectStatus(await call("PUT", `/v1/coupons/${code}`, { body: { kind: "percent", percent: "10" } }), 201, "coupon");
    const order = await deliveredWebOrder([{ sku: medium, quantity: 3 }], { customerId: customer.id, coupon: code });
    const pos = await storeKey(shop);
    const exchangeFor = (replacement, quantity = 1) => ({ order_id: order.id, location_id: shop, lines: [line(medium, quantity, "wrong_size", { replacement_sku: replacement })] });
    const receive = async (ret) => expectStatus(await moveReturn(ret.id, "receive", { lines: [{ sku: medium, condition: "resellable" }] }, { key: pos }), 200, "receive");
    expectProblem(await openReturn(exchangeFor(usd)), 422, "replacement_other_currency");

    // Dearer: 74.90 for a 59.90 jacket; 15.00 to pay at the till, nothing refunded.
    const dearer = expectStatus(await openReturn(exchangeFor(premium)), 201, "dearer exchange");
    assert.deepEqual(dearer.replacement.balance_due, { amount: "15.00", currency: "EUR" });
    assert.deepEqual([dearer.replacement.lines[0].sku, dearer.replacement.lines[0].unit_price.amount], [premium, "74.90"]);
    assert.equal(cents(dearer.refund.total), 0);
    const paidForOne = cents(dearer.lines[0].paid);
    assert.equal(paidForOne, 5391, "59.90 less its 10 % share");
    const dearerLinked = expectStatus(await call("GET", `/v1/orders/${(await receive(dearer)).replacement.order_id}`), 200, "linked order");
    assert.deepEqual(
      [dearerLinked.totals.subtotal.amount, dearerLinked.totals.discount.amount, dearerLinked.totals.grand_total.amount],
      ["74.90", "59.90", "15.00"],
      "the returned jacket pays its list price; the shopper pays the rest in store",
    );
    assert.deepEqual([dearerLinked.channel, dearerLinked.payment.method, dearerLinked.status], ["store", "paid_in_store", "collected"]);
    assert.deepEqual([(await counts(premium, shop)).on_hand, (await counts(medium, shop)).on_hand], [1, 1]);

    // Cheaper: 49.95 for a 59.90 jacket; 9.95 refunded, to store credit.
    const cheaper = expectStatus(await openReturn(exchangeFor(basic)), 201, "cheaper exchange");
    assert.equal(cheaper.replacement.balance_due.amount, "0.00");
    assert.deepEqual([cheaper.lines[0].refund.amount, cheaper.refund.total.amount], ["9.95", "9.95"]);
    const cheaperLinked = expectStatus(await call("GET", `/v1/orders/${(await receive(cheaper)).replacement.order_id}`), 200, "linked order");
    assert.equal(cents(cheaperLinked.totals.grand_total), 0, "nothing to pay");
    expectStatus(await moveReturn(cheaper.id, "refund", { method: "store_credit" }, { key: pos }), 200, "refund the difference");
    const credit = expectStatus(await call("GET", `/v1/customers/${customer.id}/store-credit`), 200, "credit").balances;
    assert.deepEqual(credit, [{ amount: "9.95", currency: "EUR" }]);

    // The last jacket returned plainly: the refunds add up to no more than was paid.
    const last = expectStatus(await openReturn({ order_id: order.id, location_id: shop, lines: [line(medium, 1)] }), 201, "plain return");
    const refunds = [dearer, cheaper, last].reduce((sum, r) => sum + cents(r.refund.total), 0);
    assert.ok(refunds <= cents(order.totals.grand_total), `${refunds} refunded of ${cents(order.totals.grand_total)} paid`);
    assert.equal(refunds, 995 + cents(last.lines[0].paid) + cents(last.refund.delivery), "the difference, the last jacket's share and the delivery (all of it is back)");
    expectProblem(await openReturn(exchangeFor(basic)), 422, "over_return");

    // The order shows its returns.
    const shown = expectStatus(await call("GET", `/v1/orders/${order.id}`), 200, "order").returns;
    assert.deepEqual(
      shown.map((r) => [r.id, r.status, r.refund.amount, r.lines[0].quantity, r.replacement_order_id ?? null]),
      [[dearer.id, "received", "0.00", 1, dearer.replacement.order_id], [cheaper.id, "refunded", "9.95", 1, cheaper.replacement.order_id], [last.id, "requested", last.refund.total.amount, 1, null]],
    );
  });
});
