// The end-to-end tests' way to talk to the worker: every answer is checked against the
// OpenAPI document (contract.mjs) before a test sees it, so drift fails the suite; and
// fixtures that create the retail data each test needs under ids of its own.
import { checkProblem, checkResponse } from "./contract.mjs";

export const BASE = process.env.OMNIEDGE_URL ?? "http://127.0.0.1:8787";
export const ADMIN = process.env.OMNIEDGE_ADMIN_KEY;
if (!ADMIN) throw new Error("set OMNIEDGE_ADMIN_KEY (the bootstrap admin key of the worker under test)");

/** A short random suffix, so every test's ids are its own. */
export const uid = () => Math.random().toString(36).slice(2, 10);

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
  const response = await fetch(BASE + path, { method, headers: sent, body: payload });
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

/** Creates a location; `at` is [latitude, longitude]. */
export async function location(id, { kind = "store", at = [52.37, 4.89], ships = true, pickup = true } = {}) {
  const { status, json } = await call("PUT", `/v1/locations/${id}`, {
    body: {
      name: `Store ${id}`, kind,
      address: { line1: "Kalverstraat 1", city: "Amsterdam", postal_code: "1012 NX", country: "NL" },
      latitude: at[0], longitude: at[1], ships_orders: ships, offers_pickup: pickup,
    },
  });
  if (status !== 201 && status !== 200) throw new Error(`location ${id}: ${status} ${JSON.stringify(json)}`);
  return json;
}

export async function product(sku, { style = `S-${sku}`, color = "black", size = "42", price = "19.99", currency = "EUR" } = {}) {
  const { status, json } = await call("PUT", `/v1/products/${sku}`, {
    body: { style, name: `Shoe ${sku}`, color, size, price: { amount: price, currency } },
  });
  if (status !== 201 && status !== 200) throw new Error(`product ${sku}: ${status} ${JSON.stringify(json)}`);
  return json;
}

/** Sets the count of a SKU at a location (a recount). */
export async function stock(sku, locationId, quantity) {
  const { status, json } = await call("POST", `/v1/stock/${sku}/adjustments`, {
    body: { location_id: locationId, kind: "set", quantity, reason: "recount" },
    headers: { "idempotency-key": `fixture-${uid()}` },
  });
  if (status !== 201) throw new Error(`stock ${sku}@${locationId}: ${status} ${JSON.stringify(json)}`);
  return json;
}

/** One location's counts of a SKU (zeros when it has no record there). */
export async function levelAt(sku, locationId) {
  const { json } = await call("GET", `/v1/stock/${sku}`);
  return json.locations.find((l) => l.location_id === locationId) ?? { on_hand: 0, held: 0, available: 0, committed: 0 };
}

/** Issues an API key and returns its secret. */
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

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
