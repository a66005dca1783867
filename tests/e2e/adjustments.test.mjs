// Stock adjustments from stock systems: `set` and `delta` under an Idempotency-Key
// (a retry replays the first answer and changes nothing), the refusals (on hand below
// held, quantities out of range, unknown SKU or location), the history newest first
// with cursor pagination, and the same guarantees under real concurrent requests.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  adjust, allAdjustments, bodyRefusals, concurrently, delta, expectProblem, expectStatus, fresh, holdAtStore, levelAt,
  location, product, call, stock, uid,
} from "./api.mjs";

/** A fresh store and SKU, with `units` on hand when given. */
async function stockedSku(units) {
  const store = fresh("adj-store");
  const sku = fresh("ADJ");
  await location(store);
  await product(sku);
  if (units !== undefined) await stock(sku, store, units);
  return { store, sku };
}

const countsAt = async (sku, store) => {
  const { on_hand, held, available } = await levelAt(sku, store);
  return { on_hand, held, available };
};

describe("set and delta", () => {
  test("answer the record and the counts right after the change", async () => {
    const { store, sku } = await stockedSku();
    const set = await adjust(sku, { location_id: store, kind: "set", quantity: 10, reason: "recount" });
    expectStatus(set, 201, "set");
    assert.match(set.json.adjustment.id, /^adj_/);
    assert.deepEqual(
      { ...set.json.adjustment, id: undefined, recorded_at: undefined },
      {
        id: undefined, sku, location_id: store, kind: "set", quantity: 10, reason: "recount",
        on_hand_before: 0, on_hand_after: 10, released_holds: [], released_hold_count: 0, recorded_by: "bootstrap-admin", recorded_at: undefined,
      },
    );
    assert.ok(Math.abs(Date.parse(set.json.adjustment.recorded_at) - Date.now()) < 60_000, "recorded just now");
    assert.deepEqual(set.json.stock, { location_id: store, on_hand: 10, held: 0, available: 10 });

    const received = await adjust(sku, { ...delta(store, 5, "received"), note: "PO 4711" });
    expectStatus(received, 201, "delta +5");
    assert.deepEqual([received.json.adjustment.on_hand_before, received.json.adjustment.on_hand_after], [10, 15]);
    assert.equal(received.json.adjustment.note, "PO 4711");
    const damaged = await adjust(sku, delta(store, -3, "damaged"));
    expectStatus(damaged, 201, "delta -3");
    assert.deepEqual(damaged.json.stock, { location_id: store, on_hand: 12, held: 0, available: 12 });
    assert.deepEqual(await countsAt(sku, store), { on_hand: 12, held: 0, available: 12 });

    const recount = await adjust(sku, { location_id: store, kind: "set", quantity: 0, reason: "recount" });
    assert.deepEqual([recount.status, recount.json.adjustment.on_hand_before, recount.json.stock.on_hand], [201, 12, 0]);
  });

  test("a set below the held units releases the newest holds", async () => {
    const { store, sku } = await stockedSku(5);
    await holdAtStore(store, sku, 2);
    await holdAtStore(store, sku, 2);
    assert.deepEqual(await countsAt(sku, store), { on_hand: 5, held: 4, available: 1 });
    const shrink = await adjust(sku, { location_id: store, kind: "set", quantity: 3, reason: "lost" });
    expectStatus(shrink, 201);
    assert.equal(shrink.json.adjustment.released_holds.length, 1, "one hold of 2 released, leaving 2 held of 3");
    assert.deepEqual(shrink.json.stock, { location_id: store, on_hand: 3, held: 2, available: 1 });
    assert.deepEqual(await countsAt(sku, store), { on_hand: 3, held: 2, available: 1 });
  });
});

describe("idempotency", () => {
  test("a replay answers the first answer again and changes stock once", async () => {
    const { store, sku } = await stockedSku(10);
    const key = fresh("idem");
    const body = { ...delta(store, -3, "sold_offline"), note: "till 3" };
    const first = await adjust(sku, body, { idempotencyKey: key });
    expectStatus(first, 201);
    assert.equal(first.headers.get("idempotent-replayed"), null, "the first answer is not a replay");

    const later = await adjust(sku, delta(store, -1, "sold_offline"));
    expectStatus(later, 201);
    const replay = await adjust(sku, body, { idempotencyKey: key });
    expectStatus(replay, 201, "replay");
    assert.equal(replay.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(replay.json, first.json, "identical body, as first answered");
    assert.equal((await countsAt(sku, store)).on_hand, 6, "10 - 3 - 1: the replay changed nothing");
    assert.equal((await allAdjustments(sku)).items.length, 3, "set, -3, -1: no record for the replay");
  });

  test("the same key with another body is 422 idempotency_key_reused and changes nothing", async () => {
    const { store, sku } = await stockedSku(10);
    const key = fresh("idem");
    const body = delta(store, -3, "damaged");
    expectStatus(await adjust(sku, body, { idempotencyKey: key }), 201);
    for (const other of [{ ...body, quantity: -2 }, { ...body, reason: "lost" }, { ...body, note: "wet" }, { ...body, kind: "set", quantity: 3 }]) {
      expectProblem(await adjust(sku, other, { idempotencyKey: key }), 422, "idempotency_key_reused", JSON.stringify(other));
    }
    assert.equal((await countsAt(sku, store)).on_hand, 7);
  });

  test("no Idempotency-Key is 428, a malformed one 400; neither changes stock", async () => {
    const { store, sku } = await stockedSku(10);
    expectProblem(await adjust(sku, delta(store, -1), { idempotencyKey: null }), 428, "idempotency_key_required");
    for (const bad of ["", "k".repeat(256), "two words"]) {
      const answer = await adjust(sku, delta(store, -1), { idempotencyKey: bad });
      assert.equal(answer.status, 400, `Idempotency-Key ${JSON.stringify(bad)}: ${JSON.stringify(answer.json)}`);
    }
    assert.equal((await countsAt(sku, store)).on_hand, 10);
  });
});

describe("refusals", () => {
  test("a delta below what is held is 409 below_held with the counts", async () => {
    const { store, sku } = await stockedSku(2);
    const problem = expectProblem(await adjust(sku, delta(store, -3, "lost")), 409, "below_held");
    assert.deepEqual([problem.location_id, problem.held, problem.on_hand_after], [store, 0, -1]);

    await stock(sku, store, 5);
    await holdAtStore(store, sku, 2);
    const held = expectProblem(await adjust(sku, delta(store, -4, "lost")), 409, "below_held");
    assert.deepEqual([held.location_id, held.held, held.on_hand_after], [store, 2, 1]);
    expectStatus(await adjust(sku, delta(store, -3, "lost")), 201, "down to exactly the held units");
    assert.deepEqual(await countsAt(sku, store), { on_hand: 2, held: 2, available: 0 });
  });

  test("bad bodies are refused and change nothing", async () => {
    const { store, sku } = await stockedSku(2);
    const good = delta(store, 1, "found");
    const cases = [
      ...bodyRefusals(good),
      ["a delta of 0", { body: { ...good, quantity: 0 } }, 422, "invalid_body"],
      ["a set of -1", { body: { ...good, kind: "set", quantity: -1 } }, 422, "invalid_body"],
      ["a set of 5000000", { body: { ...good, kind: "set", quantity: 5_000_000 } }, 422, "invalid_body"],
      ["a set of 1000001", { body: { ...good, kind: "set", quantity: 1_000_001 } }, 422, "invalid_body"],
      ["a delta of 1000001", { body: { ...good, quantity: 1_000_001 } }, 422, "invalid_body"],
      ["a delta of -1000001", { body: { ...good, quantity: -1_000_001 } }, 422, "invalid_body"],
      ["a delta of 2^53", { rawBody: JSON.stringify({ ...good, quantity: 1 }).replace(/"quantity":1/, '"quantity":9007199254740993') }, 422, "invalid_body"],
      ["a fractional quantity", { body: { ...good, quantity: 1.5 } }, 422, "invalid_body"],
      ["a quantity as a string", { body: { ...good, quantity: "1" } }, 422, "invalid_body"],
      ["kind add", { body: { ...good, kind: "add" } }, 422, "invalid_body"],
      ["reason stolen", { body: { ...good, reason: "stolen" } }, 422, "invalid_body"],
      ["no reason", { body: { location_id: store, kind: "delta", quantity: 1 } }, 422, "invalid_body"],
      ["no location", { body: { kind: "delta", quantity: 1, reason: "found" } }, 422, "invalid_body"],
      ["a blank note", { body: { ...good, note: " " } }, 422, "invalid_body"],
      ["an unknown field", { body: { ...good, sku } }, 422, "invalid_body"],
      ["a malformed location id", { body: { ...good, location_id: "bad id" } }, 422, "invalid_body"],
    ];
    for (const [name, request, status, code] of cases) {
      const answer = await call("POST", `/v1/stock/${sku}/adjustments`, { ...request, headers: { "idempotency-key": fresh("bad") } });
      expectProblem(answer, status, code, name);
    }
    assert.deepEqual(await countsAt(sku, store), { on_hand: 2, held: 0, available: 2 });
    assert.equal((await allAdjustments(sku)).items.length, 1, "only the fixture's set was recorded");
  });

  test("an unknown location is 404 location_not_found, an unknown SKU 404 sku_not_found", async () => {
    const { store, sku } = await stockedSku(2);
    const nowhere = fresh("nowhere");
    expectProblem(await adjust(sku, delta(nowhere, 1)), 404, "location_not_found");
    expectProblem(await adjust(fresh("GHOST"), delta(store, 1)), 404, "sku_not_found");
    expectProblem(await adjust("bad%20sku", delta(store, 1)), 400, "invalid_path");
    assert.deepEqual((await call("GET", `/v1/stock/${sku}`)).json.locations.map((l) => l.location_id), [store], "no record at the unknown location");
  });
});

describe("the adjustment history", () => {
  test("newest first, paged with limit and next_cursor, filtered by location", async () => {
    const { store: a, sku } = await stockedSku();
    const b = fresh("adj-other");
    await location(b);
    const made = [];
    for (const [where, body] of [[a, { kind: "set", quantity: 5 }], [b, { kind: "set", quantity: 3 }], [a, { kind: "delta", quantity: -1 }], [b, { kind: "delta", quantity: 2 }], [a, { kind: "delta", quantity: 1 }]]) {
      made.push(expectStatus(await adjust(sku, { location_id: where, reason: "correction", ...body }), 201).adjustment);
    }
    const newestFirst = [...made].reverse();

    const whole = expectStatus(await call("GET", `/v1/stock/${sku}/adjustments`), 200);
    assert.deepEqual(whole.items, newestFirst, "every record, newest first, as answered when made");
    assert.equal(whole.next_cursor, null);

    const { items, pages } = await allAdjustments(sku, { limit: 2 });
    assert.deepEqual(pages.map((p) => p.length), [2, 2, 1]);
    assert.deepEqual(items, newestFirst, "the pages together: each record once, in order");

    const atA = await allAdjustments(sku, { limit: 1, query: `location_id=${a}` });
    assert.deepEqual(atA.items.map((r) => r.id), newestFirst.filter((r) => r.location_id === a).map((r) => r.id));
    const nowhere = expectStatus(await call("GET", `/v1/stock/${sku}/adjustments?location_id=${fresh("none")}`), 200);
    assert.deepEqual(nowhere, { items: [], next_cursor: null });
  });

  test("bad limits, cursors and filters are 400 invalid_query; an unknown SKU 404", async () => {
    const { sku } = await stockedSku(1);
    for (const query of ["limit=0", "limit=201", "limit=ten", "limit=-1", "cursor=not-a-cursor", "location_id=bad%20id", "sort=asc"]) {
      expectProblem(await call("GET", `/v1/stock/${sku}/adjustments?${query}`), 400, "invalid_query", query);
    }
    expectStatus(await call("GET", `/v1/stock/${sku}/adjustments?limit=200`), 200);
    expectProblem(await call("GET", `/v1/stock/${fresh("GHOST")}/adjustments`), 404, "sku_not_found");
  });
});

describe("racing adjustments", () => {
  test("N > K concurrent deltas of -1 on K units: exactly K succeed, the rest 409, never below 0", async () => {
    const [units, attempts] = [5, 12];
    const { store, sku } = await stockedSku(units);
    const answers = await concurrently(attempts, () => adjust(sku, delta(store, -1, "sold_offline")));
    const won = answers.filter((a) => a.status === 201);
    const lost = answers.filter((a) => a.status === 409);
    assert.equal(won.length, units, `statuses: ${answers.map((a) => a.status)}`);
    assert.equal(lost.length, attempts - units, `statuses: ${answers.map((a) => a.status)}`);
    for (const answer of lost) assert.deepEqual([answer.json.code, answer.json.on_hand_after], ["below_held", -1]);
    const after = won.map((a) => a.json.adjustment.on_hand_after).sort();
    assert.deepEqual(after, [0, 1, 2, 3, 4], "each success saw the one before it");
    assert.ok(won.every((a) => a.json.adjustment.on_hand_before === a.json.adjustment.on_hand_after + 1));
    assert.deepEqual(await countsAt(sku, store), { on_hand: 0, held: 0, available: 0 });
    assert.equal((await allAdjustments(sku)).items.length, 1 + units);
  });

  test("the same Idempotency-Key sent 10 times at once changes stock once, every answer alike", async () => {
    const { store, sku } = await stockedSku(5);
    const key = `race-${uid()}`;
    const answers = await concurrently(10, () => adjust(sku, delta(store, 2, "received"), { idempotencyKey: key }));
    assert.deepEqual(answers.map((a) => a.status), Array(10).fill(201));
    for (const answer of answers.slice(1)) assert.deepEqual(answer.json, answers[0].json, "identical bodies");
    const applied = answers.filter((a) => a.headers.get("idempotent-replayed") !== "true");
    assert.equal(applied.length, 1, "one answer applied the change, nine replayed it");
    assert.deepEqual([answers[0].json.adjustment.on_hand_before, answers[0].json.adjustment.on_hand_after], [5, 7]);
    assert.equal((await countsAt(sku, store)).on_hand, 7);
    assert.equal((await allAdjustments(sku)).items.length, 2, "the set and one delta");
  });
});
