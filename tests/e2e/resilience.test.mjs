// Resilience: a panic in the worker reaches the client as a problem document (never a
// hang or an HTML page) and the worker keeps serving; an order whose placement died
// after it was written gets its stock committed by the cron repair pass.
import { test } from "node:test";
import assert from "node:assert/strict";

const URL_BASE = process.env.OMNIEDGE_URL ?? "http://127.0.0.1:8787";
const ADMIN = process.env.OMNIEDGE_ADMIN_KEY;
const run = Math.random().toString(36).slice(2, 8);

async function call(method, path, body, headers = {}) {
  const response = await fetch(URL_BASE + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get("content-type"), json: text ? JSON.parse(text) : null };
}

async function stockAt(sku, location) {
  const { json } = await call("GET", `/v1/stock/${sku}`);
  return json.locations.find((l) => l.location_id === location);
}

async function stockedSku(location, units) {
  await call("PUT", `/v1/locations/${location}`, {
    name: "Resilience store", kind: "store",
    address: { line1: "Damrak 1", city: "Amsterdam", postal_code: "1012 AB", country: "NL" },
    latitude: 52.376, longitude: 4.897, ships_orders: true, offers_pickup: true,
  });
  const sku = `RES-${run}-${Math.random().toString(36).slice(2, 6)}`;
  await call("PUT", `/v1/products/${sku}`, {
    style: `RES-${run}`, name: "Resilience shoe", color: "black", size: "42", price: { amount: "50.00", currency: "EUR" },
  });
  const set = await call("POST", `/v1/stock/${sku}/adjustments`,
    { location_id: location, kind: "set", quantity: units, reason: "recount" }, { "idempotency-key": `set-${sku}` });
  assert.equal(set.status, 201);
  return sku;
}

test("a panic is answered as a problem document and the worker keeps serving", async () => {
  const panicked = await call("GET", "/v1/locations", undefined, { "x-omniedge-fault": "panic" });
  assert.equal(panicked.status, 500);
  assert.equal(panicked.type, "application/problem+json");
  assert.equal(panicked.json.code, "internal_error");
  assert.doesNotMatch(JSON.stringify(panicked.json), /panic|\.rs|wasm/i, "no internals leak");
  const after = await call("GET", "/v1/locations");
  assert.equal(after.status, 200);
});

test("the cron repair pass commits the stock of an order whose placement died after writing it", async () => {
  const location = `res-${run}`;
  const sku = await stockedSku(location, 2);
  const email = `res-${run}@example.com`;
  const customer = await call("POST", "/v1/customers", { name: "Res", email });
  assert.equal(customer.status, 201);
  const died = await call("POST", "/v1/orders", {
    channel: "web", lines: [{ sku, quantity: 1 }], contact: { email },
    fulfilment: { type: "pickup", location_id: location }, payment: { method: "prepaid" },
  }, { "idempotency-key": `died-${run}`, "x-omniedge-fault": "after_order_write" });
  assert.equal(died.status, 500);
  assert.equal(died.type, "application/problem+json");

  const listed = await call("GET", `/v1/orders?customer_id=${customer.json.id}`);
  assert.equal(listed.json.items.length, 1, "the order was written whole");
  const before = await stockAt(sku, location);
  assert.equal(before.committed, 0, "its stock is not committed yet");

  const cron = await fetch(`${URL_BASE}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
  assert.equal(cron.status, 200);
  const after = await stockAt(sku, location);
  assert.deepEqual([after.on_hand, after.held, after.committed], [1, 0, 1], "committed exactly once");
  const again = await fetch(`${URL_BASE}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*`);
  assert.equal(again.status, 200);
  const unchanged = await stockAt(sku, location);
  assert.deepEqual([unchanged.on_hand, unchanged.committed], [1, 1], "a second pass changes nothing");
});
