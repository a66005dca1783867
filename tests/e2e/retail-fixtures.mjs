// Retail fixtures for the cart, order, customer and coupon tests: a small world of
// locations, products and stock under ids of the test's own, placed on a map around a
// delivery address so that distances (and so delivery bands) are known; plus the few
// calls every order test makes. Requests go through the contract-checking client.
import { call, issueKey, kmNorthOf, levelAt, location, product, stock, uid } from "./api.mjs";

export { eur } from "./api.mjs";

/** Where deliveries go in these tests; locations are placed at known distances from it. */
export const HOME = [52.09, 5.12];

/** The point `km` kilometres due north of HOME. */
export const kmNorth = (km) => kmNorthOf(HOME, km);

export const pickupAt = (location_id) => ({ type: "pickup", location_id });
export const inStore = () => ({ type: "in_store" });
export const deliveryTo = ([latitude, longitude] = HOME) => ({
  type: "delivery",
  latitude,
  longitude,
  address: { line1: "Oudegracht 1", city: "Utrecht", postal_code: "3511 AA", country: "NL" },
});
export const paid = (method) => ({ method });

/**
 * Creates locations, products and stock under fresh ids and returns them by the names
 * the test used: `world({ locations: { near: { km: 2 } }, products: { a: { price: "19.99" } },
 * stock: { a: { near: 3 } } })` -> `{ loc: { near: "near-x1y2" }, sku: { a: "A-x1y2" } }`.
 * A location is `km` north of HOME (default 1) and ships and offers pickup unless told.
 */
export async function world({ locations = {}, products = {}, stock: counts = {} }) {
  const run = uid();
  const loc = {};
  for (const [name, { km = 1, kind = "store", ships = true, pickup = true }] of Object.entries(locations)) {
    loc[name] = `${name}-${run}`;
    await location(loc[name], { kind, at: kmNorth(km), ships, pickup });
  }
  const sku = {};
  for (const [name, { price = "19.99" }] of Object.entries(products)) {
    sku[name] = `${name.toUpperCase()}-${run}`;
    await product(sku[name], { price });
  }
  for (const [product, perLocation] of Object.entries(counts)) {
    for (const [where, units] of Object.entries(perLocation)) await stock(sku[product], loc[where], units);
  }
  return { loc, sku };
}

/** A location's counts of a SKU, as `{ on_hand, held, available, committed }`. */
export async function counts(sku, locationId) {
  const { on_hand, held, available, committed } = await levelAt(sku, locationId);
  return { on_hand, held, available, committed };
}

export const storefrontKey = async (channel) => (await issueKey({ role: "storefront", channel })).secret;
export const storeKey = async (locationId) => (await issueKey({ role: "store", location_id: locationId })).secret;

/** Places an order under a fresh Idempotency-Key (unless one is given). */
export function placeOrder(body, { key, idempotencyKey = `order-${uid()}`, headers = {} } = {}) {
  return call("POST", "/v1/orders", { body, key, headers: { "idempotency-key": idempotencyKey, ...headers } });
}

/** Places an order that must succeed; returns the Order. */
export async function placed(body, options) {
  const answer = await placeOrder(body, options);
  if (answer.status !== 201) throw new Error(`order: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json;
}

/** Moves an order on: mark_ready, collect, ship, deliver or cancel. */
export const act = (orderId, action, key) => call("POST", `/v1/orders/${orderId}/${action}`, { key });

export const newCart = (body = {}, key) => call("POST", "/v1/carts", { body, key });
export const setLine = (cartId, sku, quantity, key) => call("PUT", `/v1/carts/${cartId}/lines/${sku}`, { body: { quantity }, key });

/** A fresh customer (unique email); returns the Customer. */
export async function newCustomer(fields = {}) {
  const { status, json } = await call("POST", "/v1/customers", {
    body: { name: "Ann de Vries", email: `ann-${uid()}@example.com`, ...fields },
  });
  if (status !== 201) throw new Error(`customer: ${status} ${JSON.stringify(json)}`);
  return json;
}

/** A fresh coupon (unique code) from a draft; returns its code. */
export async function newCoupon(draft) {
  const code = `T-${uid().toUpperCase()}`;
  const { status, json } = await call("PUT", `/v1/coupons/${code}`, { body: draft });
  if (status !== 201) throw new Error(`coupon: ${status} ${JSON.stringify(json)}`);
  return code;
}

/** Every order of a customer, following the cursor, newest first. */
export async function ordersOf(customerId, { limit = 100 } = {}) {
  const items = [];
  let cursor = null;
  do {
    const query = `customer_id=${customerId}&limit=${limit}` + (cursor ? `&cursor=${cursor}` : "");
    const { status, json } = await call("GET", `/v1/orders?${query}`);
    if (status !== 200) throw new Error(`orders of ${customerId}: ${status} ${JSON.stringify(json)}`);
    items.push(...json.items);
    cursor = json.next_cursor;
  } while (cursor);
  return items;
}
