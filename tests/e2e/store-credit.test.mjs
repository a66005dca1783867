// Store credit spent at checkout in every channel (issue 8), against workerd: credit
// issued by a refund pays part of a web order and the rest of a POS sale; a balance never
// goes below zero, even when two checkouts race for it; a refused checkout changes
// nothing (no order, no stock taken, the balance as it was); a cancelled order gives its
// credit back exactly once; returning what credit paid for gives credit back, and the
// card never gets back more than it paid.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call, concurrently, expectProblem, expectStatus, fresh, uid } from "./api.mjs";
import { act, counts, deliveryTo, eur, inStore, newCustomer, paid, pickupAt, placeOrder, placed, storeKey, storefrontKey, world } from "./retail-fixtures.mjs";

const cents = (money) => Math.round(Number(money.amount) * 100);
const balanceOf = async (customerId) =>
  expectStatus(await call("GET", `/v1/customers/${customerId}/store-credit`), 200, "balance").balances.map((b) => [b.currency, cents(b)]);

/** A new customer with store credit: one `sku` ordered online, collected at `storeId`,
 * returned there and refunded as store credit (`credit`, in cents). */
async function creditedCustomer(sku, storeId) {
  const customer = await newCustomer();
  const order = await placed({ channel: "web", customer_id: customer.id, lines: [{ sku, quantity: 1 }], fulfilment: pickupAt(storeId), payment: paid("pay_on_pickup") });
  for (const step of ["mark_ready", "collect"]) expectStatus(await act(order.id, step), 200, step);
  const headers = () => ({ "idempotency-key": fresh("ret") });
  const opened = expectStatus(
    await call("POST", "/v1/returns", { body: { order_id: order.id, location_id: storeId, lines: [{ sku, quantity: 1, reason: { code: "changed_mind" } }] }, headers: headers() }),
    201,
    "open return",
  );
  const pos = await storeKey(storeId);
  expectStatus(await call("POST", `/v1/returns/${opened.id}/receive`, { body: { lines: [{ sku, condition: "resellable" }] }, key: pos, headers: headers() }), 200, "receive");
  expectStatus(await call("POST", `/v1/returns/${opened.id}/refund`, { body: { method: "store_credit" }, key: pos, headers: headers() }), 200, "refund");
  return { customer, credit: cents(opened.refund.total) };
}

describe("store credit at checkout", () => {
  test("credit from a refund pays part of a web order and the rest of a POS sale; a short balance is refused and changes nothing", async () => {
    const { loc, sku } = await world({
      locations: { store: { km: 2 } },
      products: { coat: { price: "60.00" }, scarf: { price: "25.00" } },
      stock: { coat: { store: 3 }, scarf: { store: 5 } },
    });
    const { customer, credit } = await creditedCustomer(sku.coat, loc.store);
    assert.equal(credit, 6000);
    assert.deepEqual(await balanceOf(customer.id), [["EUR", 6000]]);

    // The web shop spends 20.00 of it on a scarf; the rest is paid by the PSP.
    const web = await storefrontKey("web");
    const online = await placed(
      { customer_id: customer.id, lines: [{ sku: sku.scarf, quantity: 1 }], fulfilment: deliveryTo(), payment: { method: "prepaid", reference: `pi_${uid()}` }, store_credit: eur("20.00") },
      { key: web },
    );
    const due = cents(online.totals.grand_total) - 2000;
    assert.deepEqual([cents(online.store_credit.applied), cents(online.store_credit.balance_due)], [2000, due]);
    assert.deepEqual(await balanceOf(customer.id), [["EUR", 4000]]);
    assert.deepEqual(expectStatus(await call("GET", `/v1/orders/${online.id}`), 200, "read").store_credit, online.store_credit, "the order shows what it spent");

    // More than is left: refused, and nothing changed (no order, no stock, no credit).
    const pos = await storeKey(loc.store);
    const before = await counts(sku.scarf, loc.store);
    const sale = (amount, idempotencyKey) =>
      placeOrder({ customer_id: customer.id, lines: [{ sku: sku.scarf, quantity: 2 }], fulfilment: inStore(), payment: paid("paid_in_store"), store_credit: eur(amount) }, { key: pos, idempotencyKey });
    const short = expectProblem(await sale("40.01"), 409, "store_credit_insufficient");
    assert.equal(short.customer_id, customer.id);
    assert.deepEqual(await counts(sku.scarf, loc.store), before, "no units taken");
    assert.deepEqual(await balanceOf(customer.id), [["EUR", 4000]]);

    // The store's till spends the rest on two scarves (50.00): 10.00 left to pay.
    const till = expectStatus(await sale("40.00"), 201, "POS sale with credit");
    assert.deepEqual([cents(till.store_credit.applied), cents(till.store_credit.balance_due)], [4000, 1000]);
    assert.deepEqual(await balanceOf(customer.id), [["EUR", 0]]);
    expectProblem(await sale("0.01"), 409, "store_credit_insufficient");
  });

  test("refusals: no named customer, more than the total, another currency, below a cent, a customer without credit", async () => {
    const { loc, sku } = await world({ locations: { store: { km: 1 } }, products: { cap: { price: "15.00" } }, stock: { cap: { store: 4 } } });
    const { customer } = await creditedCustomer(sku.cap, loc.store);
    const nobody = await newCustomer();
    const base = { lines: [{ sku: sku.cap, quantity: 1 }], fulfilment: pickupAt(loc.store), payment: paid("pay_on_pickup"), channel: "web" };
    const before = [await counts(sku.cap, loc.store), await balanceOf(customer.id)];
    expectProblem(await placeOrder({ ...base, contact: { email: customer.email }, store_credit: eur("1.00") }), 422, "store_credit_needs_customer");
    const over = expectProblem(await placeOrder({ ...base, customer_id: customer.id, store_credit: eur("15.01") }), 422, "store_credit_exceeds_total");
    assert.equal(over.grand_total, "15.00");
    expectProblem(await placeOrder({ ...base, customer_id: customer.id, store_credit: { amount: "1.00", currency: "USD" } }), 422, "invalid_store_credit");
    expectProblem(await placeOrder({ ...base, customer_id: customer.id, store_credit: eur("0.001") }), 422, "invalid_store_credit");
    expectProblem(await placeOrder({ ...base, customer_id: nobody.id, store_credit: eur("1.00") }), 409, "store_credit_insufficient");
    assert.deepEqual([await counts(sku.cap, loc.store), await balanceOf(customer.id)], before, "refusals change nothing");
    assert.deepEqual(await balanceOf(nobody.id), []);
  });

  test("two checkouts racing for the same credit: one wins, the balance never goes negative; cancelling gives it back once", async () => {
    const { loc, sku } = await world({ locations: { store: { km: 1 } }, products: { belt: { price: "30.00" } }, stock: { belt: { store: 10 } } });
    const { customer, credit } = await creditedCustomer(sku.belt, loc.store);
    const web = await storefrontKey("web");
    const answers = await concurrently(6, () =>
      placeOrder(
        { customer_id: customer.id, lines: [{ sku: sku.belt, quantity: 1 }], fulfilment: pickupAt(loc.store), payment: paid("pay_on_pickup"), store_credit: eur("30.00") },
        { key: web },
      ),
    );
    const won = answers.filter((a) => a.status === 201);
    assert.equal(won.length, 1, JSON.stringify(answers.map((a) => [a.status, a.json?.code])));
    for (const lost of answers.filter((a) => a.status !== 201)) assert.deepEqual([lost.status, lost.json.code], [409, "store_credit_insufficient"]);
    assert.deepEqual(await balanceOf(customer.id), [["EUR", credit - 3000]]);
    assert.equal((await counts(sku.belt, loc.store)).committed, 1, "only the winner took a unit");

    const order = won[0].json;
    expectStatus(await act(order.id, "cancel"), 200, "cancel");
    assert.deepEqual(await balanceOf(customer.id), [["EUR", credit]], "given back");
    expectProblem(await act(order.id, "cancel"), 409, "invalid_transition");
    assert.deepEqual(await balanceOf(customer.id), [["EUR", credit]], "given back once");
  });

  test("a return of an order paid partly with store credit: the card gets back what it paid, the rest comes back as store credit", async () => {
    const { loc, sku } = await world({ locations: { store: { km: 1 } }, products: { boot: { price: "50.00" }, lace: { price: "5.00" } }, stock: { boot: { store: 3 }, lace: { store: 5 } } });
    const { customer, credit } = await creditedCustomer(sku.boot, loc.store);
    assert.equal(credit, 5000);
    const pos = await storeKey(loc.store);
    // 55.00 of boot and laces, 45.00 of it by store credit, 10.00 by card.
    const sale = expectStatus(
      await placeOrder(
        { customer_id: customer.id, lines: [{ sku: sku.boot, quantity: 1 }, { sku: sku.lace, quantity: 1 }], fulfilment: inStore(), payment: { method: "paid_in_store", reference: `pos_${uid()}` }, store_credit: eur("45.00") },
        { key: pos },
      ),
      201,
      "sale",
    );
    assert.deepEqual([cents(sale.totals.grand_total), cents(sale.store_credit.balance_due)], [5500, 1000]);
    assert.deepEqual(await balanceOf(customer.id), [["EUR", 500]]);
    const headers = () => ({ "idempotency-key": fresh("ret") });
    const refundOf = async (line) => {
      const opened = expectStatus(
        await call("POST", "/v1/returns", { body: { order_id: sale.id, location_id: loc.store, lines: [{ ...line, reason: { code: "changed_mind" } }], received: [{ sku: line.sku, condition: "resellable" }] }, key: pos, headers: headers() }),
        201,
        "return at the till",
      );
      return expectStatus(await call("POST", `/v1/returns/${opened.id}/refund`, { body: { method: "original_payment", psp_reference: `re_${uid()}` }, key: pos, headers: headers() }), 200, "refund");
    };
    // The boot (50.00): 10.00 back to the card (all it paid), 40.00 back as store credit.
    const boot = await refundOf({ sku: sku.boot, quantity: 1 });
    assert.deepEqual([cents(boot.payout.original_payment), cents(boot.payout.store_credit)], [1000, 4000]);
    assert.deepEqual(await balanceOf(customer.id), [["EUR", 4500]]);
    // The laces (5.00): the card has had all it paid back, so all of it is store credit.
    const laces = await refundOf({ sku: sku.lace, quantity: 1 });
    assert.deepEqual([cents(laces.payout.original_payment), cents(laces.payout.store_credit)], [0, 500]);
    assert.deepEqual(await balanceOf(customer.id), [["EUR", 5000]], "every cent of credit is back, and the card got back exactly what it paid");
  });
});

