// The end-to-end tests' one client module. Every answer is checked against the OpenAPI
// document (contract.mjs: documented status, content type, body schema, and for errors
// a problem document consistent with its status) before a test sees it, so drift fails
// the suite. Plus expectations, valid drafts that tests vary one field at a time, and
// fixtures that create the catalog and stock data each test needs under ids of its own
// (carts, orders and customers: retail-fixtures.mjs).
import assert from "node:assert/strict";
import { checkProblem, checkResponse } from "./contract.mjs";

export const BASE = process.env.OMNIEDGE_URL ?? "http://127.0.0.1:8787";
export const ADMIN = process.env.OMNIEDGE_ADMIN_KEY;
if (!ADMIN) throw new Error("set OMNIEDGE_ADMIN_KEY (the bootstrap admin key of the worker under test)");

/** A short random suffix, so every test's ids are its own. */
export const uid = () => Math.random().toString(36).slice(2, 10);

/** A fresh id with a readable prefix, unique to this run: `loc-k3j9x0ab`. */
export const fresh = (prefix) => `${prefix}-${uid()}`;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `n` calls of `fn(i)` at once and returns their answers in order. */
export const concurrently = (n, fn) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));

/**
 * Sends a request through `wrangler dev`'s proxy, sending it again when the proxy (not
 * the worker) dropped it: a known fault of the local proxy chain, whose pooled
 * connections sometimes close just as a request rides on them (cloudflare/workers-sdk
 * issue 14641); it answers 503 "Your worker restarted mid-request" although the worker
 * did not restart. Only requests that are safe to send twice are sent again: GET, HEAD,
 * PUT and DELETE, and anything under an Idempotency-Key, as a real client would.
 */
export async function throughDevProxy(send, method, headers = {}) {
  const again = ["GET", "HEAD", "PUT", "DELETE"].includes(method) || Object.keys(headers).some((h) => h.toLowerCase() === "idempotency-key");
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (!again || attempt === 3 || response.status !== 503 || response.headers.get("content-type")?.startsWith("application/")) return response;
    const text = await response.clone().text();
    if (!text.startsWith("Your worker restarted mid-request")) return response;
    console.error(`# wrangler dev's proxy dropped ${method} (attempt ${attempt}); sending it again`);
  }
}

/**
 * Sends a request and returns `{ status, headers, json }` after checking the answer
 * against the contract. `key: null` sends no Authorization header; `rawBody` sends a
 * string as is; `contentType: null` sends none.
 */
export async function call(method, path, { body, rawBody, key = ADMIN, headers = {}, contentType = "application/json" } = {}) {
  const sent = { ...headers };
  if (key !== null) sent.authorization = `Bearer ${key}`;
  const payload = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined && contentType) sent["content-type"] = contentType;
  const response = await throughDevProxy(() => fetch(BASE + path, { method, headers: sent, body: payload }), method, sent);
  const unrouted = response.status === 405 || (response.status === 404 && (await codeOf(response)) === "not_found");
  const json = unrouted ? await checkProblem(method, path, response) : await checkResponse(method, path, response);
  return { status: response.status, headers: response.headers, json };
}

async function codeOf(response) {
  try {
    return JSON.parse(await response.clone().text()).code;
  } catch {
    return undefined;
  }
}

/** Asserts the answer is the problem `status`/`code`; returns the problem body. */
export function expectProblem(answer, status, code, why = "") {
  const context = `${why ? `${why}: ` : ""}${JSON.stringify(answer.json)}`;
  assert.equal(answer.status, status, context);
  assert.equal(answer.json?.code, code, context);
  return answer.json;
}

/** Asserts the status, showing the body when it differs; returns the body. */
export function expectStatus(answer, status, why = "") {
  assert.equal(answer.status, status, `${why ? `${why}: ` : ""}${JSON.stringify(answer.json)}`);
  return answer.json;
}

// ---------------------------------------------------------------------------------------
// Drafts: valid request bodies to vary
// ---------------------------------------------------------------------------------------

export const eur = (amount) => ({ amount, currency: "EUR" });

export const ADDRESS = Object.freeze({ line1: "Kalverstraat 92", city: "Amsterdam", postal_code: "1012 PH", country: "NL" });

export function locationDraft(overrides = {}) {
  return {
    name: "Omniedge Kalverstraat", kind: "store", address: { ...ADDRESS },
    latitude: 52.3702, longitude: 4.8952, ships_orders: true, offers_pickup: true,
    ...overrides,
  };
}

export function productDraft(overrides = {}) {
  return { style: "TRAIL-RUNNER", name: "Trail Runner", color: "black", size: "42", price: eur("119.95"), ...overrides };
}

/**
 * Refusals every JSON-body route gives, whatever the route: not JSON, empty, no or another
 * content type, over 64 KiB. Each `[name, request, status, code]`; `valid` is a good body.
 */
export function bodyRefusals(valid) {
  const padded = { ...valid, padding: "x".repeat(66 * 1024) };
  const text = JSON.stringify(valid);
  return [
    ["not JSON", { rawBody: "{not json" }, 400, "malformed_json"],
    ["truncated JSON", { rawBody: text.slice(0, -3) }, 400, "malformed_json"],
    ["JSON with trailing text", { rawBody: `${text} x` }, 400, "malformed_json"],
    ["an empty body", { rawBody: "" }, 400, "malformed_json"],
    ["no content type", { body: valid, contentType: null }, 415, "unsupported_media_type"],
    ["text/plain", { body: valid, contentType: "text/plain" }, 415, "unsupported_media_type"],
    ["a body over 64 KiB", { body: padded }, 413, "body_too_large"],
  ];
}

// ---------------------------------------------------------------------------------------
// Geography: places at known distances
// ---------------------------------------------------------------------------------------

const KM_PER_DEGREE_LATITUDE = (6371.0088 * Math.PI) / 180;

/** The point `km` kilometres due north of `[latitude, longitude]`. */
export const kmNorthOf = ([latitude, longitude], km) => [latitude + km / KM_PER_DEGREE_LATITUDE, longitude];

/** `near=lat,lng` for a query string. */
export const nearQuery = ([latitude, longitude]) => `near=${latitude},${longitude}`;

// ---------------------------------------------------------------------------------------
// Fixtures: locations, products, stock, keys
// ---------------------------------------------------------------------------------------

/** Creates a location named `Store <id>`; `at` is [latitude, longitude]. */
export async function location(id, { kind = "store", at = [52.37, 4.89], ships = true, pickup = true } = {}) {
  const body = locationDraft({ name: `Store ${id}`, kind, latitude: at[0], longitude: at[1], ships_orders: ships, offers_pickup: pickup });
  const { status, json } = await call("PUT", `/v1/locations/${id}`, { body });
  if (status !== 201 && status !== 200) throw new Error(`location ${id}: ${status} ${JSON.stringify(json)}`);
  return json;
}

/** Creates a product named `Shoe <sku>`. */
export async function product(sku, { style = `S-${sku}`, color = "black", size = "42", price = "19.99", currency = "EUR" } = {}) {
  const body = productDraft({ style, name: `Shoe ${sku}`, color, size, price: { amount: price, currency } });
  const { status, json } = await call("PUT", `/v1/products/${sku}`, { body });
  if (status !== 201 && status !== 200) throw new Error(`product ${sku}: ${status} ${JSON.stringify(json)}`);
  return json;
}

/** Sets the count of a SKU at a location (a recount). */
export async function stock(sku, locationId, quantity) {
  const { status, json } = await adjust(sku, { location_id: locationId, kind: "set", quantity, reason: "recount" });
  if (status !== 201) throw new Error(`stock ${sku}@${locationId}: ${status} ${JSON.stringify(json)}`);
  return json;
}

/** One location's counts of a SKU (zeros when it has no record there). */
export async function levelAt(sku, locationId) {
  const { json } = await call("GET", `/v1/stock/${sku}`);
  return json.locations.find((l) => l.location_id === locationId) ?? { on_hand: 0, held: 0, available: 0, committed: 0 };
}

/** Issues an API key and returns it with its secret. */
export async function issueKey(grant) {
  const { status, json } = await call("POST", "/v1/api-keys", { body: { label: `test ${uid()}`, ...grant } });
  if (status !== 201) throw new Error(`key: ${status} ${JSON.stringify(json)}`);
  return json;
}

/** A store with stock of fresh SKUs: `{ store, skus }`, `units` each. */
export async function stockedStore(units, count = 1, options = {}) {
  const store = `st-${uid()}`;
  await location(store, options);
  const skus = [];
  for (let i = 0; i < count; i++) {
    const sku = `SKU-${uid()}`;
    await product(sku);
    await stock(sku, store, units);
    skus.push(sku);
  }
  return { store, skus };
}

// ---------------------------------------------------------------------------------------
// Stock
// ---------------------------------------------------------------------------------------

/** A stock adjustment under a fresh Idempotency-Key unless one is given (null: none). */
export function adjust(sku, body, { key, idempotencyKey = fresh("adj") } = {}) {
  const headers = idempotencyKey === null ? {} : { "idempotency-key": idempotencyKey };
  return call("POST", `/v1/stock/${sku}/adjustments`, { body, key, headers });
}

/** A `delta` adjustment body. */
export const delta = (location_id, quantity, reason = "correction") => ({ location_id, kind: "delta", quantity, reason });

/** The SkuStock of a SKU (200 expected); `query` without the `?`. */
export async function stockOf(sku, query = "", key) {
  const answer = await call("GET", `/v1/stock/${sku}${query ? `?${query}` : ""}`, { key });
  return expectStatus(answer, 200, `stock of ${sku}`);
}

/** Every adjustment of a SKU, newest first, following `next_cursor` pages of `limit`. */
export async function allAdjustments(sku, { limit = 200, query = "", key } = {}) {
  const pages = [];
  let cursor = null;
  do {
    const params = [`limit=${limit}`, query, cursor && `cursor=${encodeURIComponent(cursor)}`].filter(Boolean).join("&");
    const page = expectStatus(await call("GET", `/v1/stock/${sku}/adjustments?${params}`, { key }), 200, "adjustments");
    assert.ok(page.items.length <= limit, `a page holds at most ${limit}`);
    pages.push(page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return { items: pages.flat(), pages };
}

/**
 * Holds `quantity` units of `sku` at store `storeId` in a fresh store cart there (the way
 * a shopper's cart does), so lookups show them as held. Returns the cart id.
 */
export async function holdAtStore(storeId, sku, quantity) {
  const cart = expectStatus(await call("POST", "/v1/carts", { body: { channel: "store", location_id: storeId } }), 201, "cart");
  const line = await call("PUT", `/v1/carts/${cart.id}/lines/${sku}`, { body: { quantity } });
  expectStatus(line, 200, "cart line");
  assert.equal(line.json.lines[0].held_at, storeId, "the units are held at the cart's store");
  return cart.id;
}
