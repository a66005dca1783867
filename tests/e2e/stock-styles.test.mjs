// Stock kept per style: one object keeps the ledgers of a style's SKUs, so a size grid
// or a batch of the style's SKUs is one object call. A SKU whose stock was kept by its
// own object before styles (as rows, or earlier as one JSON value) is taken over on its
// first touch with every count, hold, commitment and adjustment; the old object is never
// read again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, BASE, adjust, call, expectStatus, levelAt, productDraft, stock, uid } from "./api.mjs";
import { newCart, setLine, world } from "./retail-fixtures.mjs";

/** The test hook that plants a ledger in a SKU's own object, as before styles. */
async function plantLegacy(sku, ledger, asJson) {
  const response = await fetch(`${BASE}/v1/test-hooks/stock/${sku}/legacy-ledger`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ ledger, as_json: asJson }),
  });
  assert.equal(response.status, 204, await response.text());
}

const inMinutes = (m) => new Date(Date.now() + m * 60_000).toISOString();

async function product(sku, style, size) {
  expectStatus(await call("PUT", `/v1/products/${sku}`, { body: productDraft({ style, size }) }), 201);
}

for (const asJson of [false, true]) {
  const form = asJson ? "one JSON value" : "rows";
  test(`a SKU's ledger kept as ${form} by its own object is taken over by its style's object on first touch`, async () => {
    const { loc } = await world({ locations: { shop: {} } });
    const style = `STYLE-${uid()}`;
    const [old, sibling] = [`${style}-40`, `${style}-41`];
    await product(old, style, "40");
    await product(sibling, style, "41");
    // A real adjustment of the sibling gives a record in the shape the old object kept.
    const recorded = await stock(sibling, loc.shop, 4);
    const record = { ...recorded.adjustment, sku: old, id: `adj_old${uid()}` };
    const oldKey = `old-${uid()}`;

    await plantLegacy(old, {
      levels: [[loc.shop, { on_hand: 10, committed: 2, held: 3 }]],
      holds: [{ reference: `cart:old-${uid()}`, location_id: loc.shop, quantity: 3, placed_at: new Date().toISOString(), expires_at: inMinutes(10) }],
      commitments: [[`order:old-${uid()}`, { state: "committed", allocations: [{ location_id: loc.shop, quantity: 2 }] }]],
      adjustments: [{ idempotency_key: `bootstrap-admin:${oldKey}`, fingerprint: "f", location_id: loc.shop, record: JSON.stringify(record), reply: "{}" }],
    }, asJson);

    // The first touch (a lookup) takes the ledger over: counts, the live hold, the commitment.
    const level = await levelAt(old, loc.shop);
    assert.deepEqual([level.on_hand, level.held, level.available, level.committed], [10, 3, 7, 2]);
    // The adjustments list carries the old record (the adjustment trail is not lost).
    const listed = expectStatus(await call("GET", `/v1/stock/${old}/adjustments`), 200);
    assert.deepEqual(listed.items.map((a) => a.id), [record.id]);
    // ...and its Idempotency-Keys: the old key with another body is refused, nothing changes.
    const reused = await adjust(old, { location_id: loc.shop, kind: "delta", quantity: 5, reason: "received" }, { idempotencyKey: oldKey });
    assert.equal(reused.status, 422, JSON.stringify(reused.json));
    assert.equal(reused.json.code, "idempotency_key_reused");
    assert.equal((await levelAt(old, loc.shop)).on_hand, 10);

    // Planting in the old object again changes nothing now: the style's object keeps the SKU.
    await plantLegacy(old, { levels: [[loc.shop, { on_hand: 99, committed: 0, held: 0 }]], holds: [], commitments: [], adjustments: [] }, asJson);
    assert.equal((await levelAt(old, loc.shop)).on_hand, 10);

    // It sells on as usual: a delta adds to what was taken over, a cart holds from it.
    expectStatus(await adjust(old, { location_id: loc.shop, kind: "delta", quantity: 1, reason: "received" }), 201);
    const cart = await newCart({ channel: "web" });
    expectStatus(cart, 201);
    expectStatus(await setLine(cart.json.id, old, 7), 200);
    const after = await levelAt(old, loc.shop);
    assert.deepEqual([after.on_hand, after.held, after.available], [11, 10, 1]);

    // The style lookup reads both sizes in one answer.
    const grid = expectStatus(await call("GET", `/v1/stock/${old}/style`), 200);
    const bySku = Object.fromEntries(grid.variants.map((v) => [v.sku, v]));
    assert.equal(bySku[sibling].available, 4);
    assert.equal(bySku[old].available, 1);
  });
}

test("a batch across styles answers every SKU with its own style's counts", async () => {
  const { loc } = await world({ locations: { shop: {} } });
  const skus = [];
  for (let s = 0; s < 3; s++) {
    const style = `MANY-${uid()}`;
    for (let size = 0; size < 3; size++) {
      const sku = `${style}-${size}`;
      await product(sku, style, String(size));
      await stock(sku, loc.shop, 10 * s + size);
      skus.push([sku, 10 * s + size]);
    }
  }
  const batch = expectStatus(await call("POST", "/v1/stock/lookup", { body: { skus: skus.map(([sku]) => sku) } }), 200);
  assert.deepEqual(batch.items.map((i) => [i.sku, i.total.available]), skus);
});
