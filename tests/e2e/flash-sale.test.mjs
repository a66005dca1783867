// A flash sale on one SKU: tens of thousands of live holds must not slow the SKU down
// or take it offline (the ledger keeps holds as indexed rows, never as one growing
// value). Holds are opened in bulk through the test hook, which runs the ledger's own
// hold rule for each; then shoppers and stores keep selling the SKU as usual.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, BASE, call, expectStatus, levelAt, stock } from "./api.mjs";
import { paid, pickupAt, placed, setLine, newCart, storefrontKey, world } from "./retail-fixtures.mjs";

const HOLDS = 20_000;
const PER_CALL = 5_000;

/** The test hook (not part of the contract, so sent around the contract check). */
async function hook(sku, body, key = ADMIN) {
  const response = await fetch(`${BASE}/v1/test-hooks/stock/${sku}/holds`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function bulkHolds(sku, location_id, count) {
  const answer = await hook(sku, { location_id, count, hold_seconds: 600 });
  assert.equal(answer.status, 201, JSON.stringify(answer.json));
  assert.equal(answer.json.held, count);
}

// Takes a few seconds; the ceiling catches a ledger whose cost grows with its holds (a
// recount that found each newest live hold by sorting all of them took 87s here).
test(`a SKU with ${HOLDS} live holds still sells: carts hold, orders commit, a recount releases the newest`, { timeout: 40_000 }, async () => {
  const { loc, sku } = await world({ locations: { shop: {} }, products: { deal: {} } });
  await stock(sku.deal, loc.shop, 900_000);
  for (let opened = 0; opened < HOLDS; opened += PER_CALL) await bulkHolds(sku.deal, loc.shop, PER_CALL);

  const level = await levelAt(sku.deal, loc.shop);
  assert.deepEqual([level.on_hand, level.held, level.available, level.committed], [900_000, HOLDS, 900_000 - HOLDS, 0]);

  // A shopper's cart still holds a unit...
  const web = await storefrontKey("web");
  const cart = await newCart({}, web);
  expectStatus(cart, 201);
  expectStatus(await setLine(cart.json.id, sku.deal, 1, web), 200);
  // ...and an order still commits.
  const order = await placed({ channel: "call_centre", lines: [{ sku: sku.deal, quantity: 2 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid") });
  assert.equal(order.status, "placed");
  const after = await levelAt(sku.deal, loc.shop);
  assert.deepEqual([after.on_hand, after.held, after.committed], [900_000 - 2, HOLDS + 1, 2]);

  // A recount below what is held releases the newest holds first: the cart's.
  const recount = await call("POST", `/v1/stock/${sku.deal}/adjustments`, {
    body: { location_id: loc.shop, kind: "set", quantity: HOLDS - 10, reason: "recount" },
    headers: { "idempotency-key": `recount-${sku.deal}` },
  });
  expectStatus(recount, 201, JSON.stringify(recount.json));
  assert.equal(recount.json.adjustment.released_holds.length, 11);
  assert.equal(recount.json.adjustment.released_hold_count, 11);
  assert.equal(recount.json.adjustment.released_holds[0], `cart:${cart.json.id}`, "the newest hold gives way first");
  assert.deepEqual([recount.json.stock.on_hand, recount.json.stock.held, recount.json.stock.available], [HOLDS - 10, HOLDS - 10, 0]);

  // A recount far below what is held releases nearly all of them in one request (read a
  // page at a time through the placement index: each page costs the same however many
  // are held), and the SKU sells on.
  const deep = await call("POST", `/v1/stock/${sku.deal}/adjustments`, {
    body: { location_id: loc.shop, kind: "set", quantity: 1_000, reason: "recount" },
    headers: { "idempotency-key": `deep-recount-${sku.deal}` },
  });
  expectStatus(deep, 201, JSON.stringify(deep.json));
  assert.equal(deep.json.adjustment.released_hold_count, HOLDS - 10 - 1_000);
  assert.deepEqual([deep.json.stock.on_hand, deep.json.stock.held, deep.json.stock.available], [1_000, 1_000, 0]);
  await stock(sku.deal, loc.shop, 1_005);
  const late = await newCart({}, web);
  expectStatus(await setLine(late.json.id, sku.deal, 5, web), 200);
  const sold = await levelAt(sku.deal, loc.shop);
  assert.deepEqual([sold.held, sold.available], [1_005, 0]);
});

test("the test hook is for admin keys only", async () => {
  const { loc, sku } = await world({ locations: { shop: {} }, products: { deal: {} }, stock: { deal: { shop: 5 } } });
  const answer = await hook(sku.deal, { location_id: loc.shop, count: 1, hold_seconds: 60 }, await storefrontKey("web"));
  assert.deepEqual([answer.status, answer.json.code], [403, "admin_only"]);
  assert.equal((await levelAt(sku.deal, loc.shop)).held, 0);
});
