// Locations and products, maintained by back-office keys: PUT creates (201) or replaces
// (200), GET reads one, lists filter by kind or style; bad input is refused with the
// documented problem and a refused write leaves nothing behind.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyRefusals, concurrently, eur, expectProblem, expectStatus, fresh, locationDraft, productDraft, call, uid,
} from "./api.mjs";

const withoutTimestamp = ({ updated_at, ...rest }) => rest;
const without = (object, field) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== field));
const BAD_IDS = ["bad%20id", "x".repeat(65), "caf%C3%A9", "a%2Bb"];

/** GET of an unknown id is 404 `notFound`; GET and PUT of a malformed one 400 invalid_path. */
async function assertUnknownAndMalformedIds(collection, draft, notFound) {
  expectProblem(await call("GET", `/v1/${collection}/${fresh("GHOST")}`), 404, notFound);
  for (const bad of BAD_IDS) {
    expectProblem(await call("GET", `/v1/${collection}/${bad}`), 400, "invalid_path", bad);
    expectProblem(await call("PUT", `/v1/${collection}/${bad}`, { body: draft }), 400, "invalid_path", bad);
  }
}

/**
 * Sends every refused variant of a PUT to `path` and checks the answer, then that the
 * resource is as it was (`before`: the last good body, or undefined when it never existed).
 */
async function assertRefusedPutsChangeNothing(path, cases, before, notFoundCode) {
  for (const [name, request, status, code] of cases) {
    expectProblem(await call("PUT", path, request), status, code, name);
  }
  const now = await call("GET", path);
  if (before === undefined) expectProblem(now, 404, notFoundCode, "a refused create leaves nothing behind");
  else assert.deepEqual(expectStatus(now, 200), before, "a refused replace leaves the old value");
}

describe("locations", () => {
  test("PUT creates (201), PUT again replaces (200), GET reads what was written", async () => {
    const id = fresh("loc");
    const draft = locationDraft({ address: { ...locationDraft().address, line2: "2nd floor" } });
    const created = await call("PUT", `/v1/locations/${id}`, { body: draft });
    expectStatus(created, 201, "create");
    assert.deepEqual(withoutTimestamp(created.json), { id, ...draft });
    assert.deepEqual(expectStatus(await call("GET", `/v1/locations/${id}`), 200), created.json);

    const change = locationDraft({ name: "Omniedge Depot", kind: "warehouse", latitude: -33.9, longitude: 151.2, offers_pickup: false });
    const replaced = await call("PUT", `/v1/locations/${id}`, { body: change });
    expectStatus(replaced, 200, "replace");
    assert.deepEqual(withoutTimestamp(replaced.json), { id, ...change }, "the address line2 is gone: PUT replaces");
    assert.ok(Date.parse(replaced.json.updated_at) >= Date.parse(created.json.updated_at));
    assert.deepEqual(expectStatus(await call("GET", `/v1/locations/${id}`), 200), replaced.json);
  });

  test("racing PUTs of a new location create it once", async () => {
    const id = fresh("race-loc");
    const answers = await concurrently(8, (i) => call("PUT", `/v1/locations/${id}`, { body: locationDraft({ name: `Racer ${i}` }) }));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 201], "exactly one 201 Created");
  });

  test("the list is sorted by id and filters by kind", async () => {
    const run = uid();
    const mine = { [`${run}-a-store`]: "store", [`${run}-b-wh`]: "warehouse", [`${run}-c-pp`]: "pickup_point", [`${run}-d-store`]: "store" };
    for (const [id, kind] of Object.entries(mine)) {
      expectStatus(await call("PUT", `/v1/locations/${id}`, { body: locationDraft({ kind }) }), 201);
    }
    const ids = (items) => items.map((l) => l.id);
    const everything = expectStatus(await call("GET", "/v1/locations"), 200).items;
    assert.deepEqual(ids(everything), [...ids(everything)].sort(), "sorted by id");
    assert.deepEqual(ids(everything).filter((id) => id.startsWith(run)), Object.keys(mine));

    for (const kind of ["store", "warehouse", "pickup_point"]) {
      const listed = expectStatus(await call("GET", `/v1/locations?kind=${kind}`), 200).items;
      assert.ok(listed.every((l) => l.kind === kind), `only ${kind}s`);
      assert.deepEqual(ids(listed), [...ids(listed)].sort(), "sorted by id");
      const expected = Object.entries(mine).filter(([, k]) => k === kind).map(([id]) => id);
      assert.deepEqual(ids(listed).filter((id) => id.startsWith(run)), expected, kind);
    }
    for (const query of ["kind=shop", "kind=", "type=store"]) {
      expectProblem(await call("GET", `/v1/locations?${query}`), 400, "invalid_query", query);
    }
  });

  test("an unknown location is 404, a malformed id 400", async () => {
    await assertUnknownAndMalformedIds("locations", locationDraft(), "location_not_found");
  });

  const good = locationDraft();
  const refusals = [
    ...bodyRefusals(good),
    ["an unknown field", { body: { ...good, opening_hours: "9-5" } }, 422, "invalid_body"],
    ["latitude as a string", { body: { ...good, latitude: "52.37" } }, 422, "invalid_body"],
    ["ships_orders as a string", { body: { ...good, ships_orders: "yes" } }, 422, "invalid_body"],
    ["no address", { body: without(good, "address") }, 422, "invalid_body"],
    ["no offers_pickup", { body: without(good, "offers_pickup") }, 422, "invalid_body"],
    ["an address without city", { body: { ...good, address: without(good.address, "city") } }, 422, "invalid_body"],
    ["latitude 91", { body: { ...good, latitude: 91 } }, 422, "invalid_body"],
    ["latitude -90.5", { body: { ...good, latitude: -90.5 } }, 422, "invalid_body"],
    ["longitude 180.01", { body: { ...good, longitude: 180.01 } }, 422, "invalid_body"],
    ["kind shop", { body: { ...good, kind: "shop" } }, 422, "invalid_body"],
    ["a blank name", { body: { ...good, name: "   " } }, 422, "invalid_body"],
    ["a name of 201 characters", { body: { ...good, name: "n".repeat(201) } }, 422, "invalid_body"],
    ["country nl", { body: { ...good, address: { ...good.address, country: "nl" } } }, 422, "invalid_body"],
    ["country NLD", { body: { ...good, address: { ...good.address, country: "NLD" } } }, 422, "invalid_body"],
    ["an array", { rawBody: "[]" }, 422, "invalid_body"],
  ];

  test("refused creates leave nothing behind", async () => {
    const id = fresh("never");
    await assertRefusedPutsChangeNothing(`/v1/locations/${id}`, refusals, undefined, "location_not_found");
  });

  test("refused replaces leave the old location", async () => {
    const id = fresh("kept");
    const created = expectStatus(await call("PUT", `/v1/locations/${id}`, { body: good }), 201);
    await assertRefusedPutsChangeNothing(`/v1/locations/${id}`, refusals, created, "location_not_found");
  });
});

describe("products", () => {
  test("PUT creates (201), PUT again replaces (200), GET reads what was written", async () => {
    const sku = fresh("SKU");
    const draft = productDraft({
      style: fresh("STYLE"),
      attributes: { material: "mesh", drop: "8 mm" },
      images: ["https://cdn.example.com/a.jpg", "http://cdn.example.com/b.jpg"],
    });
    const created = await call("PUT", `/v1/products/${sku}`, { body: draft });
    expectStatus(created, 201, "create");
    assert.deepEqual(withoutTimestamp(created.json), { sku, ...draft });
    assert.deepEqual(expectStatus(await call("GET", `/v1/products/${sku}`), 200), created.json);

    const change = productDraft({ style: draft.style, name: "Trail Runner 2", price: eur("99.5") });
    const replaced = await call("PUT", `/v1/products/${sku}`, { body: change });
    expectStatus(replaced, 200, "replace");
    assert.equal(replaced.json.name, "Trail Runner 2");
    assert.deepEqual(replaced.json.attributes, {}, "PUT replaces: attributes left out are gone");
    assert.deepEqual(replaced.json.images, [], "PUT replaces: images left out are gone");
    assert.equal(Number(replaced.json.price.amount), 99.5);
    assert.equal(replaced.json.price.currency, "EUR");
    assert.deepEqual(expectStatus(await call("GET", `/v1/products/${sku}`), 200), replaced.json);
  });

  test("the list by style holds exactly the style's SKUs, sorted by SKU", async () => {
    const run = uid();
    const style = `STY-${run}`;
    const skus = [`${run}-43`, `${run}-41`, `${run}-42`];
    for (const sku of skus) expectStatus(await call("PUT", `/v1/products/${sku}`, { body: productDraft({ style, size: sku.slice(-2) }) }), 201);
    expectStatus(await call("PUT", `/v1/products/${run}-other`, { body: productDraft({ style: `OTHER-${run}` }) }), 201);

    const listed = expectStatus(await call("GET", `/v1/products?style=${style}`), 200).items;
    assert.deepEqual(listed.map((p) => p.sku), [...skus].sort());
    assert.ok(listed.every((p) => p.style === style));

    // A SKU never changes style (its stock is kept with its style's): refused, nothing changes.
    const before = expectStatus(await call("GET", `/v1/products/${run}-43`), 200);
    expectProblem(await call("PUT", `/v1/products/${run}-43`, { body: productDraft({ style: `OTHER-${run}`, size: "43" }) }), 409, "style_is_fixed");
    assert.deepEqual(expectStatus(await call("GET", `/v1/products/${run}-43`), 200), before);
    const after = expectStatus(await call("GET", `/v1/products?style=${style}`), 200).items;
    assert.deepEqual(after.map((p) => p.sku), [...skus].sort());
    const other = expectStatus(await call("GET", `/v1/products?style=OTHER-${run}`), 200).items;
    assert.deepEqual(other.map((p) => p.sku), [`${run}-other`]);

    for (const query of ["style=bad%20style", `colour=red`]) {
      expectProblem(await call("GET", `/v1/products?${query}`), 400, "invalid_query", query);
    }
  });

  test("an unknown SKU is 404, a malformed SKU 400", async () => {
    await assertUnknownAndMalformedIds("products", productDraft(), "sku_not_found");
  });

  const good = productDraft();
  const refusals = [
    ...bodyRefusals(good),
    ["an unknown field", { body: { ...good, weight: "300g" } }, 422, "invalid_body"],
    ["size as a number", { body: { ...good, size: 42 } }, 422, "invalid_body"],
    ["no name", { body: without(good, "name") }, 422, "invalid_body"],
    ["no price", { body: without(good, "price") }, 422, "invalid_body"],
    ["a malformed style", { body: { ...good, style: "TRAIL RUNNER" } }, 422, "invalid_body"],
    ["a negative price", { body: { ...good, price: eur("-1.00") } }, 422, "invalid_body"],
    ["a price as a number", { body: { ...good, price: { amount: 119.95, currency: "EUR" } } }, 422, "invalid_body"],
    ["a price with 5 decimals", { body: { ...good, price: eur("1.23456") } }, 422, "invalid_body"],
    ["an absurd price", { body: { ...good, price: eur("1000000000000000000000") } }, 422, "invalid_body"],
    ["a price that is not a number", { body: { ...good, price: eur("ten") } }, 422, "invalid_body"],
    ["currency euro", { body: { ...good, price: { amount: "1.00", currency: "euro" } } }, 422, "invalid_body"],
    ["currency eur", { body: { ...good, price: { amount: "1.00", currency: "eur" } } }, 422, "invalid_body"],
    ["51 attributes", { body: { ...good, attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) } }, 422, "invalid_body"],
    ["an attribute that is not a string", { body: { ...good, attributes: { drop: 8 } } }, 422, "invalid_body"],
    ["an ftp image", { body: { ...good, images: ["ftp://cdn.example.com/a.jpg"] } }, 422, "invalid_body"],
    ["21 images", { body: { ...good, images: Array.from({ length: 21 }, (_, i) => `https://cdn.example.com/${i}.jpg`) } }, 422, "invalid_body"],
  ];

  test("refused creates leave nothing behind", async () => {
    await assertRefusedPutsChangeNothing(`/v1/products/${fresh("NEVER")}`, refusals, undefined, "sku_not_found");
  });

  test("refused replaces leave the old product", async () => {
    const sku = fresh("KEPT");
    const created = expectStatus(await call("PUT", `/v1/products/${sku}`, { body: good }), 201);
    await assertRefusedPutsChangeNothing(`/v1/products/${sku}`, refusals, created, "sku_not_found");
  });
});
