// The foundation: locations and products maintained by back-office keys, stock lookups
// across locations (near, radius, kind, pickup, batch, style), adjustments with
// idempotency, access by role, and every error as a problem document.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { documentedOperations } from "./contract.mjs";
import { BASE, call, issueKey, levelAt, location, product, stock, stockedStore, uid } from "./api.mjs";

describe("locations and products", () => {
  test("are created, replaced, read and listed", async () => {
    const id = `loc-${uid()}`;
    const created = await location(id, { kind: "warehouse", ships: true, pickup: false });
    assert.equal(created.kind, "warehouse");
    const replaced = await call("PUT", `/v1/locations/${id}`, {
      body: { name: "Renamed", kind: "warehouse", address: created.address, latitude: 52.3, longitude: 4.7, ships_orders: true, offers_pickup: false },
    });
    assert.equal(replaced.status, 200);
    assert.equal((await call("GET", `/v1/locations/${id}`)).json.name, "Renamed");
    const warehouses = await call("GET", "/v1/locations?kind=warehouse");
    assert.ok(warehouses.json.items.some((l) => l.id === id));
    assert.ok(warehouses.json.items.every((l) => l.kind === "warehouse"));

    const style = `STY-${uid()}`;
    await product(`${style}-40`, { style, size: "40", price: "89.95" });
    await product(`${style}-41`, { style, size: "41", price: "89.95" });
    const listed = await call("GET", `/v1/products?style=${style}`);
    assert.deepEqual(listed.json.items.map((p) => p.sku), [`${style}-40`, `${style}-41`]);
    assert.deepEqual(listed.json.items[0].price, { amount: "89.95", currency: "EUR" });
  });

  test("bad input is refused with a clear 4xx and leaves nothing behind", async () => {
    const sku = `BAD-${uid()}`;
    const good = { style: "S", name: "Shoe", color: "black", size: "42", price: { amount: "10.00", currency: "EUR" } };
    const cases = [
      [{ rawBody: "{not json" }, 400, "malformed_json"],
      [{ body: { ...good, extra: 1 } }, 422, "invalid_body"],
      [{ body: { ...good, size: 42 } }, 422, "invalid_body"],
      [{ body: { ...good, name: undefined } }, 422, "invalid_body"],
      [{ body: { ...good, price: { amount: "-1", currency: "EUR" } } }, 422, "invalid_body"],
      [{ body: { ...good, price: { amount: 10, currency: "EUR" } } }, 422, "invalid_body"],
      [{ body: { ...good, price: { amount: "10", currency: "euro" } } }, 422, "invalid_body"],
      [{ body: good, contentType: null }, 415, "unsupported_media_type"],
      [{ rawBody: JSON.stringify({ ...good, name: "x".repeat(70_000) }) }, 413, "body_too_large"],
    ];
    for (const [request, status, code] of cases) {
      const { status: got, json } = await call("PUT", `/v1/products/${sku}`, request);
      assert.equal(got, status, `${code}: ${JSON.stringify(json)}`);
      assert.equal(json.code, code);
    }
    assert.equal((await call("GET", `/v1/products/${sku}`)).status, 404, "nothing was written");
    assert.equal((await call("PUT", "/v1/products/bad%20sku", { body: good })).json.code, "invalid_path");
    const badLocation = await call("PUT", `/v1/locations/l-${uid()}`, {
      body: { name: "x", kind: "store", address: { line1: "a", city: "b", postal_code: "c", country: "NL" }, latitude: 91, longitude: 0, ships_orders: true, offers_pickup: true },
    });
    assert.equal(badLocation.status, 422);
  });
});

describe("stock lookups", () => {
  test("one SKU: per location on hand, held, available and the total", async () => {
    const { store, skus: [sku] } = await stockedStore(5);
    const other = `wh-${uid()}`;
    await location(other, { kind: "warehouse", at: [52.3, 4.75], pickup: false });
    await stock(sku, other, 7);
    const { json } = await call("GET", `/v1/stock/${sku}`);
    const ids = json.locations.map((l) => l.location_id);
    assert.deepEqual(ids, [...ids].sort(), "sorted by location id");
    assert.deepEqual(json.total, { on_hand: 12, held: 0, available: 12, committed: 0 });
    assert.equal((await levelAt(sku, store)).available, 5);
    assert.equal((await call("GET", `/v1/stock/NOPE-${uid()}`)).json.code, "sku_not_found");
  });

  test("near: only locations with stock, nearest first, within the radius, by kind and pickup", async () => {
    const run = uid();
    const sku = `NEAR-${run}`;
    await product(sku);
    const places = [
      [`a-${run}`, [52.3702, 4.8930], "store", true, 2],
      [`b-${run}`, [52.3547, 4.8936], "store", true, 1],
      [`c-${run}`, [52.3600, 4.9250], "store", true, 0],
      [`w-${run}`, [52.3000, 4.7500], "warehouse", false, 40],
      [`p-${run}`, [52.3789, 4.9003], "pickup_point", true, 3],
    ];
    for (const [id, at, kind, pickup, units] of places) {
      await location(id, { at, kind, pickup });
      await stock(sku, id, units);
    }
    const near = await call("GET", `/v1/stock/${sku}?near=52.3702,4.8930`);
    assert.deepEqual(near.json.locations.map((l) => l.location_id), [`a-${run}`, `p-${run}`, `b-${run}`, `w-${run}`]);
    const distances = near.json.locations.map((l) => l.distance_km);
    assert.deepEqual(distances, [...distances].sort((x, y) => x - y));
    assert.equal(distances[0], 0);
    const close = await call("GET", `/v1/stock/${sku}?near=52.3702,4.8930&radius_km=2&kind=store&pickup=true`);
    assert.deepEqual(close.json.locations.map((l) => l.location_id), [`a-${run}`, `b-${run}`]);
    assert.equal(close.json.total.available, 3);
    for (const query of ["near=91,0", "near=abc", "radius_km=2", "near=52,4&radius_km=-1", "kind=shop", "pickup=yes", "colour=red"]) {
      const bad = await call("GET", `/v1/stock/${sku}?${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(bad.json.code, "invalid_query");
    }
  });

  test("batch lookup of up to 100 SKUs keeps the order asked", async () => {
    const { skus } = await stockedStore(1, 3);
    const asked = [skus[2], skus[0], skus[1], skus[0]];
    const { status, json } = await call("POST", "/v1/stock/lookup", { body: { skus: asked } });
    assert.equal(status, 200);
    assert.deepEqual(json.items.map((i) => i.sku), [skus[2], skus[0], skus[1]]);
    const unknown = await call("POST", "/v1/stock/lookup", { body: { skus: [skus[0], "GHOST-1"] } });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.json.unknown_skus, ["GHOST-1"]);
    const tooMany = await call("POST", "/v1/stock/lookup", { body: { skus: Array.from({ length: 101 }, (_, i) => `S${i}`) } });
    assert.equal(tooMany.json.code, "too_many_skus");
  });

  test("the QR code on the box: every size and color of the style and where each is", async () => {
    const run = uid();
    const style = `QR-${run}`;
    const store = `qr-${run}`;
    await location(store);
    for (const [color, size, units] of [["black", "41", 1], ["black", "40", 0], ["blue", "42", 3]]) {
      await product(`${style}-${color}-${size}`, { style, color, size });
      await stock(`${style}-${color}-${size}`, store, units);
    }
    const { json } = await call("GET", `/v1/stock/${style}-blue-42/style?near=52.37,4.89`);
    assert.equal(json.style, style);
    assert.deepEqual(json.colors, ["black", "blue"]);
    assert.deepEqual(json.sizes, ["40", "41", "42"]);
    assert.deepEqual(json.variants.map((v) => [v.sku, v.available]), [
      [`${style}-black-40`, 0], [`${style}-black-41`, 1], [`${style}-blue-42`, 3],
    ]);
    assert.equal(json.variants[0].locations.length, 0, "sold-out sizes list no location");
  });
});

describe("adjustments", () => {
  test("set and delta, replayed by Idempotency-Key, listed newest first with a cursor", async () => {
    const { store, skus: [sku] } = await stockedStore(10);
    const key = `k-${uid()}`;
    const body = { location_id: store, kind: "delta", quantity: -3, reason: "damaged", note: "wet box" };
    const first = await call("POST", `/v1/stock/${sku}/adjustments`, { body, headers: { "idempotency-key": key } });
    assert.equal(first.status, 201);
    assert.deepEqual([first.json.adjustment.on_hand_before, first.json.adjustment.on_hand_after], [10, 7]);
    const replay = await call("POST", `/v1/stock/${sku}/adjustments`, { body, headers: { "idempotency-key": key } });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(replay.json, first.json);
    assert.equal((await levelAt(sku, store)).on_hand, 7, "applied once");
    const reused = await call("POST", `/v1/stock/${sku}/adjustments`, { body: { ...body, quantity: -1 }, headers: { "idempotency-key": key } });
    assert.equal(reused.json.code, "idempotency_key_reused");

    const missing = await call("POST", `/v1/stock/${sku}/adjustments`, { body });
    assert.equal(missing.status, 428);
    const tooFar = await call("POST", `/v1/stock/${sku}/adjustments`, { body: { ...body, quantity: -8 }, headers: { "idempotency-key": uid() } });
    assert.equal(tooFar.status, 409);
    assert.equal(tooFar.json.code, "below_held");
    for (const bad of [{ kind: "delta", quantity: 0 }, { kind: "set", quantity: -1 }, { kind: "set", quantity: 5_000_000 }]) {
      const refused = await call("POST", `/v1/stock/${sku}/adjustments`, { body: { ...body, ...bad }, headers: { "idempotency-key": uid() } });
      assert.equal(refused.status, 422, JSON.stringify(bad));
    }
    const nowhere = await call("POST", `/v1/stock/${sku}/adjustments`, { body: { ...body, location_id: `none-${uid()}` }, headers: { "idempotency-key": uid() } });
    assert.equal(nowhere.json.code, "location_not_found");

    const page1 = await call("GET", `/v1/stock/${sku}/adjustments?limit=1`);
    assert.equal(page1.json.items[0].kind, "delta", "newest first");
    const page2 = await call("GET", `/v1/stock/${sku}/adjustments?limit=1&cursor=${page1.json.next_cursor}`);
    assert.equal(page2.json.items[0].kind, "set");
    assert.equal(page2.json.next_cursor, null);
  });

  test("racing deltas never take stock below zero", async () => {
    const { store, skus: [sku] } = await stockedStore(4);
    const answers = await Promise.all(Array.from({ length: 10 }, () =>
      call("POST", `/v1/stock/${sku}/adjustments`, {
        body: { location_id: store, kind: "delta", quantity: -1, reason: "sold_offline" },
        headers: { "idempotency-key": uid() },
      })));
    assert.equal(answers.filter((a) => a.status === 201).length, 4);
    assert.equal(answers.filter((a) => a.status === 409).length, 6);
    assert.equal((await levelAt(sku, store)).on_hand, 0);
  });

  test("the same Idempotency-Key raced changes stock once and answers alike", async () => {
    const { store, skus: [sku] } = await stockedStore(5);
    const request = { body: { location_id: store, kind: "delta", quantity: 2, reason: "received" }, headers: { "idempotency-key": uid() } };
    const answers = await Promise.all(Array.from({ length: 8 }, () => call("POST", `/v1/stock/${sku}/adjustments`, request)));
    assert.ok(answers.every((a) => a.status === 201));
    assert.equal(new Set(answers.map((a) => a.json.adjustment.id)).size, 1);
    assert.equal((await levelAt(sku, store)).on_hand, 7);
  });
});

describe("access", () => {
  test("missing, wrong and revoked keys are 401; roles and locations are 403", async () => {
    const { store, skus: [sku] } = await stockedStore(3);
    assert.equal((await call("GET", `/v1/stock/${sku}`, { key: null })).json.code, "unauthorized");
    assert.equal((await call("GET", `/v1/stock/${sku}`, { key: "oe_wrong" })).status, 401);

    const pos = await issueKey({ role: "store", location_id: store });
    const adjust = (key, location_id) => call("POST", `/v1/stock/${sku}/adjustments`, {
      key, body: { location_id, kind: "delta", quantity: 1, reason: "found" }, headers: { "idempotency-key": uid() },
    });
    assert.equal((await adjust(pos.secret, store)).status, 201);
    const otherStore = `o-${uid()}`;
    await location(otherStore);
    assert.equal((await adjust(pos.secret, otherStore)).json.code, "other_location");
    assert.equal((await call("PUT", `/v1/locations/${store}`, { key: pos.secret, body: {} })).json.code, "admin_only");
    const ownList = await call("GET", `/v1/stock/${sku}/adjustments`, { key: pos.secret });
    assert.ok(ownList.json.items.every((a) => a.location_id === store));

    const web = await issueKey({ role: "storefront", channel: "web" });
    assert.equal((await call("GET", `/v1/stock/${sku}`, { key: web.secret })).status, 200);
    assert.equal((await adjust(web.secret, store)).json.code, "storefront_cannot_write");
    assert.equal((await call("GET", "/v1/api-keys", { key: web.secret })).status, 403);

    assert.equal((await call("DELETE", `/v1/api-keys/${web.id}`)).status, 204);
    assert.equal((await call("GET", `/v1/stock/${sku}`, { key: web.secret })).status, 401);
    assert.equal((await call("DELETE", `/v1/api-keys/${web.id}`)).json.code, "api_key_not_found");
    assert.equal((await call("POST", "/v1/api-keys", { body: { role: "store", label: "x", location_id: `none-${uid()}` } })).status, 404);
    assert.equal((await call("POST", "/v1/api-keys", { body: { role: "storefront", label: "x", channel: "store" } })).status, 422);
  });
});

describe("routes and the contract", () => {
  test("unknown routes are 404 and wrong methods 405 with Allow, as problems", async () => {
    const unknown = await call("GET", "/v1/nothing-here");
    assert.equal(unknown.json.code, "not_found");
    const wrong = await call("DELETE", "/v1/locations");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET");
  });

  test("every documented operation is served", async () => {
    for (const { method, path } of documentedOperations()) {
      const concrete = path.replace("{action}", "cancel").replace(/\{[^}]+\}/g, "x");
      const response = await fetch(BASE + concrete, { method, headers: { authorization: `Bearer ${process.env.OMNIEDGE_ADMIN_KEY}` } });
      const body = await response.text();
      const code = body.startsWith("{") ? JSON.parse(body).code : undefined;
      assert.ok(!(response.status === 404 && code === "not_found") && response.status !== 405, `${method} ${path} is not served: ${response.status}`);
    }
  });
});
