// Stock lookups: one SKU across locations (on hand, held, available, totals), the
// shopper's view (`near`: only locations with stock, nearest first, with radius, kind and
// pickup filters), the batch lookup and the style lookup behind the QR code on the box.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  bodyRefusals, concurrently, eur, expectProblem, expectStatus, fresh, holdAtStore, kmNorthOf, location, nearQuery,
  product, productDraft, call, stock, stockOf, uid,
} from "./api.mjs";

const ids = (locations) => locations.map((l) => l.location_id);
const ZERO = { on_hand: 0, held: 0, available: 0, committed: 0 };

/** The sum of the listed locations' counts. */
const sum = (locations) =>
  locations.reduce((t, l) => ({
    on_hand: t.on_hand + l.on_hand, held: t.held + l.held, available: t.available + l.available, committed: t.committed + l.committed,
  }), ZERO);

/**
 * A small map around a shopper at ORIGIN: locations due north at known distances, each
 * with stock of one fresh SKU (`held` of those units held in a store cart).
 */
const ORIGIN = [51.9225, 4.4792];
async function neighbourhood(sku) {
  const run = uid();
  const spots = {
    // name: [km, kind, offers pickup, units, held]
    empty: [0.5, "store", true, 0, 0],
    store: [1, "store", true, 2, 0],
    sold: [2, "store", true, 2, 2],
    point: [3, "pickup_point", true, 1, 0],
    depot: [6, "warehouse", false, 10, 0],
  };
  const id = {};
  for (const [name, [km, kind, pickup, units, held]] of Object.entries(spots)) {
    id[name] = `${name}-${run}`;
    await location(id[name], { kind, pickup, at: kmNorthOf(ORIGIN, km) });
    await stock(sku, id[name], units);
    if (held > 0) await holdAtStore(id[name], sku, held);
  }
  return id;
}

describe("one SKU", () => {
  test("every location with a record, by id, with on hand, held, available and the total", async () => {
    const sku = fresh("SKU");
    await product(sku);
    const run = uid();
    const [a, b, c] = [`${run}-a`, `${run}-b`, `${run}-c`];
    await location(c, { kind: "store" });
    await location(a, { kind: "store", pickup: true });
    await location(b, { kind: "warehouse", pickup: false });
    await stock(sku, a, 5);
    await stock(sku, b, 7);
    await stock(sku, c, 0);
    await holdAtStore(a, sku, 2);

    const found = await stockOf(sku);
    assert.equal(found.sku, sku);
    assert.deepEqual(ids(found.locations), [a, b, c], "every location with a record, also 0, by id");
    const at = Object.fromEntries(found.locations.map((l) => [l.location_id, l]));
    assert.deepEqual(at[a], {
      location_id: a, name: `Store ${a}`, kind: "store", offers_pickup: true, ships_orders: true,
      on_hand: 5, held: 2, available: 3, committed: 0,
    });
    assert.deepEqual([at[b].kind, at[b].offers_pickup, at[b].on_hand, at[b].held, at[b].available], ["warehouse", false, 7, 0, 7]);
    assert.deepEqual([at[c].on_hand, at[c].held, at[c].available], [0, 0, 0]);
    assert.ok(found.locations.every((l) => !("distance_km" in l)), "no distance without near");
    assert.deepEqual(found.total, { on_hand: 12, held: 2, available: 10, committed: 0 });
  });

  test("a SKU without stock anywhere has no locations", async () => {
    const sku = fresh("SKU");
    await product(sku);
    const { read_at, ...counts } = await stockOf(sku);
    assert.deepEqual(counts, { sku, locations: [], total: ZERO });
    assert.ok(Math.abs(Date.parse(read_at) - Date.now()) < 60_000, `read just now, not ${read_at}`);
  });

  test("an unknown SKU is 404 sku_not_found, a malformed one 400 invalid_path", async () => {
    expectProblem(await call("GET", `/v1/stock/${fresh("GHOST")}`), 404, "sku_not_found");
    expectProblem(await call("GET", `/v1/stock/${fresh("GHOST")}?near=52,4`), 404, "sku_not_found");
    expectProblem(await call("GET", `/v1/stock/bad%20sku`), 400, "invalid_path");
    expectProblem(await call("GET", `/v1/stock/${"x".repeat(65)}`), 400, "invalid_path");
  });
});

describe("near a shopper", () => {
  test("only locations with available stock, nearest first, with their distance", async () => {
    const sku = fresh("NEAR");
    await product(sku);
    const id = await neighbourhood(sku);
    const found = await stockOf(sku, nearQuery(ORIGIN));
    assert.deepEqual(ids(found.locations), [id.store, id.point, id.depot], "no empty or fully held location; nearest first");
    const distances = found.locations.map((l) => l.distance_km);
    for (const [got, want] of distances.map((d, i) => [d, [1, 3, 6][i]])) {
      assert.ok(Math.abs(got - want) < 0.01, `distance_km ${got} is about ${want}`);
    }
    assert.ok(found.locations.every((l) => l.available > 0));
    assert.deepEqual(found.total, sum(found.locations));
    assert.deepEqual(found.total, { on_hand: 13, held: 0, available: 13, committed: 0 });
  });

  test("radius_km, kind and pickup narrow the answer", async () => {
    const sku = fresh("NEAR");
    await product(sku);
    const id = await neighbourhood(sku);
    const near = nearQuery(ORIGIN);
    const cases = [
      [`${near}&radius_km=3.5`, [id.store, id.point]],
      [`${near}&radius_km=0.9`, []],
      [`${near}&radius_km=20000`, [id.store, id.point, id.depot]],
      [`${near}&kind=store`, [id.store]],
      [`${near}&kind=warehouse`, [id.depot]],
      [`${near}&kind=pickup_point`, [id.point]],
      [`${near}&pickup=true`, [id.store, id.point]],
      [`${near}&pickup=false`, [id.store, id.point, id.depot]],
      [`${near}&kind=store&pickup=true&radius_km=2`, [id.store]],
      // Without near: every record of that kind, also the empty ones, by id.
      ["kind=store", [id.empty, id.sold, id.store].sort()],
      ["pickup=true", [id.empty, id.point, id.sold, id.store].sort()],
    ];
    for (const [query, expected] of cases) {
      const found = await stockOf(sku, query);
      assert.deepEqual(ids(found.locations), expected, query);
      assert.deepEqual(found.total, sum(found.locations), `${query}: the total sums the listed locations`);
    }
  });

  const BAD_QUERIES = [
    "near=91,4", "near=52,181", "near=abc", "near=52.3", "near=52,4,1", "near=",
    "radius_km=2", "near=52,4&radius_km=0", "near=52,4&radius_km=-1", "near=52,4&radius_km=abc", "near=52,4&radius_km=20001",
    "kind=shop", "kind=STORE", "pickup=yes", "pickup=1", "colour=red",
  ];

  test("bad near, radius_km, kind or pickup is 400 invalid_query (one SKU and style)", async () => {
    const sku = fresh("SKU");
    await product(sku);
    for (const path of [`/v1/stock/${sku}`, `/v1/stock/${sku}/style`]) {
      for (const query of BAD_QUERIES) {
        expectProblem(await call("GET", `${path}?${query}`), 400, "invalid_query", `${path}?${query}`);
      }
    }
  });
});

describe("batch lookup", () => {
  test("50 SKUs with duplicates: one answer per SKU in the order first asked, as the single lookups", async () => {
    const store = fresh("batch");
    await location(store);
    const skus = Array.from({ length: 50 }, (_, i) => `B${String(i).padStart(2, "0")}-${uid()}`);
    await concurrently(skus.length, async (i) => {
      await product(skus[i]);
      await stock(skus[i], store, i);
    });
    const asked = [...skus].reverse();
    asked.splice(10, 0, skus[49], skus[45], skus[49]); // asked again after their first ask
    asked.push(skus[0], skus[20]);
    const { status, json } = await call("POST", "/v1/stock/lookup", { body: { skus: asked } });
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(json.items.map((i) => i.sku), [...skus].reverse(), "duplicates collapsed, order kept");
    for (const i of [0, 7, 49]) {
      const item = json.items.find((x) => x.sku === skus[i]);
      const { read_at: batchRead, ...counted } = item;
      const { read_at: singleRead, ...single } = await stockOf(skus[i]);
      assert.deepEqual(counted, single, `${skus[i]} as its single lookup`);
      assert.ok(Date.parse(batchRead) <= Date.parse(singleRead), "each answer says when it read its counts");
      assert.equal(item.total.on_hand, i);
    }
  });

  test("near, radius_km, kind and pickup apply to every SKU", async () => {
    const [first, second] = [fresh("NB"), fresh("NB")];
    await product(first);
    await product(second);
    const id = await neighbourhood(first);
    await stock(second, id.depot, 4);
    const [latitude, longitude] = ORIGIN;
    const lookup = async (filters) => {
      const answer = await call("POST", "/v1/stock/lookup", { body: { skus: [second, first], near: { latitude, longitude }, ...filters } });
      return expectStatus(answer, 200).items.map((item) => [item.sku, ids(item.locations)]);
    };
    assert.deepEqual(await lookup({}), [[second, [id.depot]], [first, [id.store, id.point, id.depot]]]);
    assert.deepEqual(await lookup({ radius_km: 3.5 }), [[second, []], [first, [id.store, id.point]]]);
    assert.deepEqual(await lookup({ pickup: true, kind: "pickup_point" }), [[second, []], [first, [id.point]]]);
  });

  test("over 100 SKUs is 422 too_many_skus, repeated ones too; 100 asks of 2 SKUs are two answers", async () => {
    const tooMany = await call("POST", "/v1/stock/lookup", { body: { skus: Array.from({ length: 101 }, (_, i) => `MANY-${i}`) } });
    expectProblem(tooMany, 422, "too_many_skus");
    const sku = fresh("DUP");
    await product(sku);
    const other = fresh("DUP");
    await product(other);
    const asked = Array.from({ length: 100 }, (_, i) => (i % 2 ? sku : other));
    const answer = await call("POST", "/v1/stock/lookup", { body: { skus: asked } });
    assert.deepEqual(expectStatus(answer, 200).items.map((i) => i.sku), [other, sku]);
    expectProblem(await call("POST", "/v1/stock/lookup", { body: { skus: [...asked, sku] } }), 422, "too_many_skus", "101 asks of 2 SKUs");
    const none = await call("POST", "/v1/stock/lookup", { body: { skus: [] } });
    assert.equal(none.status, 422, "no SKUs at all");
  });

  test("unknown SKUs are 404 unknown_skus, listed in the order asked", async () => {
    const known = fresh("KNOWN");
    await product(known);
    const [ghost1, ghost2] = [fresh("GHOST"), fresh("GHOST")];
    const answer = await call("POST", "/v1/stock/lookup", { body: { skus: [ghost2, known, ghost1, ghost2] } });
    const problem = expectProblem(answer, 404, "unknown_skus");
    assert.deepEqual(problem.unknown_skus, [ghost2, ghost1]);
  });

  test("a bad body is refused", async () => {
    const sku = fresh("SKU");
    await product(sku);
    const good = { skus: [sku] };
    const cases = [
      ...bodyRefusals(good),
      ["an unknown field", { body: { ...good, colour: "red" } }, 422, "invalid_body"],
      ["no skus", { body: {} }, 422, "invalid_body"],
      ["skus as a string", { body: { skus: sku } }, 422, "invalid_body"],
      ["a malformed SKU", { body: { skus: ["bad sku"] } }, 422, "invalid_body"],
      ["radius_km without near", { body: { ...good, radius_km: 5 } }, 422, "invalid_body"],
      ["latitude 91", { body: { ...good, near: { latitude: 91, longitude: 4 } } }, 422, "invalid_body"],
      ["near as a string", { body: { ...good, near: "52,4" } }, 422, "invalid_body"],
      ["radius_km 0", { body: { ...good, near: { latitude: 52, longitude: 4 }, radius_km: 0 } }, 422, "invalid_body"],
      ["kind shop", { body: { ...good, kind: "shop" } }, 422, "invalid_body"],
      ["pickup as a string", { body: { ...good, pickup: "true" } }, 422, "invalid_body"],
    ];
    for (const [name, request, status, code] of cases) {
      expectProblem(await call("POST", "/v1/stock/lookup", request), status, code, name);
    }
  });
});

describe("bounded-staleness lookups (max_staleness)", () => {
  /** Asserts that `answer` read its counts no earlier than `max` ms before `asked`, and that `Age` says so. */
  function withinBound(answer, reads, asked, maxMs) {
    const age = Number(answer.headers.get("age"));
    assert.ok(Number.isInteger(age) && age >= 0, `an Age header in whole seconds, got ${answer.headers.get("age")}`);
    for (const readAt of reads) {
      assert.ok(Date.parse(readAt) >= asked - maxMs - 5, `read at ${readAt}, asked at ${new Date(asked).toISOString()}, max ${maxMs} ms`);
      assert.ok(age <= Math.ceil((Date.now() - Date.parse(readAt)) / 1000), "Age is not more than the counts' age");
    }
  }

  test("a lookup that accepts stale counts is never older than it asked, says how old, and strong reads see every change at once", async () => {
    const store = fresh("stale");
    await location(store);
    const sku = fresh("STALE");
    await product(sku);
    await stock(sku, store, 5);
    const first = await call("GET", `/v1/stock/${sku}?max_staleness=30s`);
    expectStatus(first, 200);
    assert.equal(first.json.total.on_hand, 5);
    await stock(sku, store, 9);
    // A strong read (the default) always sees the change, and carries no Age.
    const strong = await call("GET", `/v1/stock/${sku}`);
    assert.equal(expectStatus(strong, 200).total.on_hand, 9);
    assert.equal(strong.headers.get("age"), null);
    // Within 30 s a bounded read may answer the earlier counts, but then it says it read them then.
    const asked = Date.now();
    const bounded = await call("GET", `/v1/stock/${sku}?max_staleness=30s`);
    withinBound(bounded, [expectStatus(bounded, 200).read_at], asked, 30_000);
    if (bounded.json.total.on_hand === 5) {
      assert.equal(bounded.json.read_at, first.json.read_at, "old counts come with their old read_at");
    } else {
      assert.equal(bounded.json.total.on_hand, 9);
    }
    // Asked for counts no older than 0 ms: read now.
    const askedNow = Date.now();
    const fresh0 = await call("GET", `/v1/stock/${sku}?max_staleness=0ms`);
    assert.equal(expectStatus(fresh0, 200).total.on_hand, 9);
    withinBound(fresh0, [fresh0.json.read_at], askedNow, 0);
    // Once its bound has passed, the cached counts are not used.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await stock(sku, store, 4);
    const askedLater = Date.now();
    const later = await call("GET", `/v1/stock/${sku}?max_staleness=1s`);
    assert.equal(expectStatus(later, 200).total.on_hand, 4, "counts older than 1 s are read again");
    withinBound(later, [later.json.read_at], askedLater, 1000);
  });

  test("batch and style lookups take it too, each SKU with its own read_at", async () => {
    const store = fresh("stale");
    await location(store);
    const style = `ST-${uid()}`;
    const skus = [`${style}-40`, `${style}-41`];
    for (const [i, sku] of skus.entries()) {
      await call("PUT", `/v1/products/${sku}`, { body: productDraft({ style, size: String(40 + i) }) });
      await stock(sku, store, i + 1);
    }
    const asked = Date.now();
    const batch = await call("POST", "/v1/stock/lookup", { body: { skus, max_staleness: "2s" } });
    const items = expectStatus(batch, 200).items;
    assert.deepEqual(items.map((i) => i.total.on_hand), [1, 2]);
    withinBound(batch, items.map((i) => i.read_at), asked, 2000);
    const grid = await call("GET", `/v1/stock/${skus[0]}/style?max_staleness=500ms`);
    const variants = expectStatus(grid, 200).variants;
    assert.deepEqual(variants.map((v) => v.available), [1, 2]);
    withinBound(grid, variants.map((v) => v.read_at), asked, 2000);
  });

  test("max_staleness must be whole seconds or milliseconds up to a minute", async () => {
    const sku = fresh("STALE");
    await product(sku);
    for (const bad of ["1", "61s", "1.5s", "01s", "60001ms", "1m", "-1s", ""]) {
      expectProblem(await call("GET", `/v1/stock/${sku}?max_staleness=${encodeURIComponent(bad)}`), 400, "invalid_query", bad);
    }
    expectProblem(await call("POST", "/v1/stock/lookup", { body: { skus: [sku], max_staleness: "2 s" } }), 422, "invalid_body");
    expectProblem(await call("POST", "/v1/stock/lookup", { body: { skus: [sku], max_staleness: 1 } }), 422, "invalid_body");
  });
});

describe("style lookup (the QR code on the box)", () => {
  test("every color and size of the style, where each is available, nearest first", async () => {
    const run = uid();
    const style = `QR-${run}`;
    const [near, far, empty] = [`near-${run}`, `far-${run}`, `empty-${run}`];
    await location(near, { at: kmNorthOf(ORIGIN, 1) });
    await location(far, { at: kmNorthOf(ORIGIN, 5) });
    await location(empty, { at: kmNorthOf(ORIGIN, 0.2) });
    // [color, size, price, units near, units far]
    const variants = [
      ["blue", "10.5", "109.95", 0, 2],
      ["black", "10", "99.95", 1, 3],
      ["white", "9", "99.95", 0, 0],
      ["black", "9", "99.95", 2, 0],
      ["blue", "9", "109.95", 4, 1],
    ];
    const skuOf = (color, size) => `${style}-${color}-${size}`;
    for (const [color, size, price, atNear, atFar] of variants) {
      const sku = skuOf(color, size);
      expectStatus(await call("PUT", `/v1/products/${sku}`, { body: productDraft({ style, color, size, price: eur(price) }) }), 201);
      await stock(sku, near, atNear);
      await stock(sku, far, atFar);
      await stock(sku, empty, 0);
    }
    await product(`${style}-other`, { style: `${style}-X` });

    const scanned = skuOf("blue", "10.5");
    const answer = expectStatus(await call("GET", `/v1/stock/${scanned}/style?${nearQuery(ORIGIN)}`), 200);
    assert.equal(answer.style, style);
    assert.equal(answer.scanned_sku, scanned);
    assert.deepEqual(answer.colors, ["black", "blue", "white"]);
    assert.deepEqual(answer.sizes, ["9", "10", "10.5"], "numeric sizes by value");
    const summary = answer.variants.map((v) => [v.sku, v.available, ids(v.locations)]);
    assert.deepEqual(summary, [
      [skuOf("black", "9"), 2, [near]],
      [skuOf("black", "10"), 4, [near, far]],
      [skuOf("blue", "9"), 5, [near, far]],
      [skuOf("blue", "10.5"), 2, [far]],
      [skuOf("white", "9"), 0, []],
    ], "by color then size; only locations with stock, nearest first");
    const blue = answer.variants.find((v) => v.sku === scanned);
    assert.deepEqual([blue.color, blue.size, Number(blue.price.amount), blue.price.currency], ["blue", "10.5", 109.95, "EUR"]);
    const km = { [near]: 1, [far]: 5 };
    for (const l of answer.variants.flatMap((v) => v.locations)) {
      assert.ok(l.available > 0, `${l.location_id} is listed only with stock`);
      assert.ok(Math.abs(l.distance_km - km[l.location_id]) < 0.01, `${l.location_id}: distance_km ${l.distance_km}`);
    }

    const close = expectStatus(await call("GET", `/v1/stock/${scanned}/style?${nearQuery(ORIGIN)}&radius_km=2`), 200);
    assert.deepEqual(close.variants.map((v) => [v.available, ids(v.locations)]), [[2, [near]], [1, [near]], [4, [near]], [0, []], [0, []]]);
    const anywhere = expectStatus(await call("GET", `/v1/stock/${skuOf("white", "9")}/style`), 200);
    assert.deepEqual(anywhere.variants.map((v) => ids(v.locations)), [[near], [far, near].sort(), [far, near].sort(), [far], []]);
  });

  test("letter sizes run XS to XL", async () => {
    const style = fresh("TEE");
    for (const size of ["M", "XL", "S", "XS", "L"]) await product(`${style}-${size}`, { style, size, color: "grey" });
    const answer = expectStatus(await call("GET", `/v1/stock/${style}-M/style`), 200);
    assert.deepEqual(answer.sizes, ["XS", "S", "M", "L", "XL"]);
    assert.deepEqual(answer.variants.map((v) => v.size), ["XS", "S", "M", "L", "XL"]);
  });

  test("an unknown SKU is 404 sku_not_found", async () => {
    expectProblem(await call("GET", `/v1/stock/${fresh("GHOST")}/style`), 404, "sku_not_found");
    expectProblem(await call("GET", "/v1/stock/bad%20sku/style"), 400, "invalid_path");
  });
});
