// Errors: every refusal is an RFC 9457 problem document (application/problem+json with
// type, title, status equal to the HTTP status, a stable code and a detail), whatever
// produced it: routing, authentication, access, parsing, validation or the stock ledger.
// (`call` checks this on every error answer of every suite; here each code is produced
// once on purpose, so none goes unexercised.)
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  adjust, call, delta, expectProblem, fresh, issueKey, location, locationDraft, product, productDraft, stock, uid,
} from "./api.mjs";

test("every kind of refusal is a problem document with the documented status and code", async () => {
  const store = fresh("err");
  const other = fresh("err-other");
  const sku = fresh("ERR");
  await location(store);
  await location(other);
  await product(sku);
  await stock(sku, store, 1);
  const pos = (await issueKey({ role: "store", location_id: store })).secret;
  const web = (await issueKey({ role: "storefront", channel: "app" })).secret;
  const reusedKey = fresh("reused");
  await adjust(sku, delta(store, 1), { idempotencyKey: reusedKey });

  const cases = [
    [400, "malformed_json", () => call("PUT", `/v1/products/${sku}`, { rawBody: "{oops" })],
    [400, "invalid_query", () => call("GET", `/v1/stock/${sku}?near=north`)],
    [400, "invalid_path", () => call("GET", "/v1/products/no%20spaces")],
    [401, "unauthorized", () => call("GET", "/v1/locations", { key: null })],
    [403, "admin_only", () => call("PUT", `/v1/locations/${store}`, { key: pos, body: locationDraft() })],
    [403, "other_location", () => adjust(sku, delta(other, 1), { key: pos })],
    [403, "storefront_cannot_write", () => adjust(sku, delta(store, 1), { key: web })],
    [404, "not_found", () => call("GET", "/v1/warehouses")],
    [404, "sku_not_found", () => call("GET", `/v1/products/${fresh("GHOST")}`)],
    [404, "location_not_found", () => call("GET", `/v1/locations/${fresh("nowhere")}`)],
    [404, "api_key_not_found", () => call("DELETE", `/v1/api-keys/key_${"f".repeat(32)}`)],
    [404, "unknown_skus", () => call("POST", "/v1/stock/lookup", { body: { skus: [fresh("GHOST")] } })],
    [405, "method_not_allowed", () => call("DELETE", `/v1/products/${sku}`)],
    [409, "below_held", () => adjust(sku, delta(store, -5))],
    [413, "body_too_large", () => call("PUT", `/v1/products/${sku}`, { rawBody: JSON.stringify({ ...productDraft(), name: "x".repeat(70_000) }) })],
    [415, "unsupported_media_type", () => call("PUT", `/v1/products/${sku}`, { body: productDraft(), contentType: "application/x-www-form-urlencoded" })],
    [422, "invalid_body", () => call("PUT", `/v1/products/${sku}`, { body: { ...productDraft(), price: "cheap" } })],
    [422, "idempotency_key_reused", () => adjust(sku, delta(store, 2), { idempotencyKey: reusedKey })],
    [422, "too_many_skus", () => call("POST", "/v1/stock/lookup", { body: { skus: Array.from({ length: 101 }, (_, i) => `S-${i}`) } })],
    [428, "idempotency_key_required", () => adjust(sku, delta(store, 1), { idempotencyKey: null })],
  ];
  for (const [status, code, request] of cases) {
    const answer = await request();
    expectProblem(answer, status, code);
    assert.equal(answer.headers.get("content-type").split(";")[0], "application/problem+json", code);
  }
});

test("a body that is not JSON is 400 malformed_json, even when what precedes the break is already wrong", async () => {
  // The JSON is cut short after a field the route does not know or a value of the wrong
  // type: the body is still not JSON, and that is what the client must be told.
  const sku = fresh("CUT");
  await product(sku);
  const cases = [
    ["PUT", `/v1/locations/${fresh("cut")}`, '{"colour": "red", '],
    ["PUT", `/v1/products/${sku}`, '{"size": 42, "name": '],
    ["POST", "/v1/stock/lookup", '{"skus": 5, '],
    ["POST", `/v1/stock/${sku}/adjustments`, '{"sku": "x", "quantity'],
  ];
  const answers = [];
  for (const [method, path, rawBody] of cases) {
    const { status, json } = await call(method, path, { rawBody, headers: { "idempotency-key": uid() } });
    answers.push(`${method} ${path} ${rawBody} -> ${status} ${json.code}`);
  }
  assert.deepEqual(answers, cases.map(([method, path, rawBody]) => `${method} ${path} ${rawBody} -> 400 malformed_json`));
});
