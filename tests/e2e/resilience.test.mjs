// Resilience: a panic in the worker reaches the client as a problem document (never a
// hang or an HTML page) and the worker keeps serving; an order whose placement died
// after it was written gets its stock committed by the cron repair pass; the deep health
// check reaches a Durable Object and D1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, call, levelAt, stockedStore } from "./api.mjs";
import { newCustomer, paid, pickupAt, placeOrder } from "./retail-fixtures.mjs";

/** Runs the cron repair pass, as the platform does every minute (locally it never fires by itself). */
const runCron = () => fetch(`${BASE}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);

test("a panic is answered as a problem document and the worker keeps serving", async () => {
  const panicked = await call("GET", "/v1/locations", { headers: { "x-omniedge-fault": "panic" } });
  assert.equal(panicked.status, 500);
  assert.equal(panicked.headers.get("content-type"), "application/problem+json");
  assert.equal(panicked.json.code, "internal_error");
  assert.doesNotMatch(JSON.stringify(panicked.json), /panic|\.rs|wasm/i, "no internals leak");
  const after = await call("GET", "/v1/locations");
  assert.equal(after.status, 200);
});

test("an order whose placement died after writing it has its stock committed once, and the cron repair pass keeps it so", async () => {
  const { store, skus: [sku] } = await stockedStore(2);
  const customer = await newCustomer();
  const died = await placeOrder({
    channel: "web", lines: [{ sku, quantity: 1 }], contact: { email: customer.email },
    fulfilment: pickupAt(store), payment: paid("prepaid"),
  }, { headers: { "x-omniedge-fault": "after_order_write" } });
  assert.equal(died.status, 500);
  assert.equal(died.headers.get("content-type"), "application/problem+json");

  const listed = await call("GET", `/v1/orders?customer_id=${customer.id}`);
  assert.equal(listed.json.items.length, 1, "the order was written whole");
  const before = await levelAt(sku, store);
  assert.deepEqual([before.on_hand, before.held, before.committed], [1, 0, 1], "taken (committed) before the order was written");

  await runCron();
  const after = await levelAt(sku, store);
  assert.deepEqual([after.on_hand, after.held, after.committed], [1, 0, 1], "committed exactly once");
  await runCron();
  const unchanged = await levelAt(sku, store);
  assert.deepEqual([unchanged.on_hand, unchanged.committed], [1, 1], "a second pass changes nothing");
});

test("the deep health check answers without a key once a Durable Object and D1 have answered", async () => {
  const deep = await call("GET", "/v1/health/deep", { key: null });
  assert.equal(deep.status, 200);
  assert.deepEqual(deep.json, { status: "ok", durable_objects: "ok", d1: "ok" });
  const posted = await call("POST", "/v1/health/deep", { key: null, body: {} });
  assert.deepEqual([posted.status, posted.headers.get("allow")], [405, "GET"]);
});
