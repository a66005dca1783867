// The authorization matrix, kept as data: for every operation in the OpenAPI document,
// what each principal gets. authorization.test.mjs walks every row × principal against
// the worker; an operation without a row fails that test, so a new route cannot ship
// without saying who may call it.
//
// Principals (each publishable one with a key of its own, so rate limits stay apart):
//   admin; store_own / store_other (the store where the resource lives, another store);
//   secret_own / secret_other (secret storefront keys of the resource's channel, web,
//   and of another, app); pub_token / pub_no_token / pub_wrong_token (a web publishable
//   key with the guest cart's token, none, another cart's); shopper_own / shopper_other
//   (the web publishable key with Ann's session, whose resources these are, or Bob's);
//   none (no key).
// An expectation is a status, or [status, code] for refusals.

import { createECDH, randomBytes, randomUUID } from "node:crypto";
import { call } from "./api.mjs";

export const PRINCIPALS = [
  "admin", "store_own", "store_other", "secret_own", "secret_other",
  "pub_token", "pub_no_token", "pub_wrong_token", "shopper_own", "shopper_other", "none",
];

const PUBLISHABLE = ["pub_token", "pub_no_token", "pub_wrong_token", "shopper_own", "shopper_other"];

/** Everyone but `none` gets `status`; `none` is 401. */
const anyKey = (status) => ({ ...Object.fromEntries(PRINCIPALS.map((p) => [p, status])), none: [401, "unauthorized"] });

/** Secret keys only: `secret` for the secret principals (overridable), 403 for publishable keys. */
function secretOnly(secret, overrides = {}) {
  return {
    ...anyKey(secret),
    ...Object.fromEntries(PUBLISHABLE.map((p) => [p, [403, "publishable_key_not_allowed"]])),
    ...overrides,
  };
}

const adminOnly = (status) =>
  secretOnly(status, Object.fromEntries(["store_own", "store_other", "secret_own", "secret_other"].map((p) => [p, [403, "admin_only"]])));

/** A cart of the web channel: the token opens a guest cart, the session the shopper's own. */
const cartAccess = (status) => ({
  ...anyKey(status),
  pub_no_token: [403, "cart_token_required"],
  pub_wrong_token: [403, "cart_token_invalid"],
  shopper_other: [403, "other_shopper"],
});

/** Ann's data: every secret key, and Ann's own session. */
const shopperData = (status, storeStatus = status) => ({
  ...anyKey(status),
  store_own: storeStatus,
  store_other: storeStatus,
  pub_token: [403, "shopper_session_required"],
  pub_no_token: [403, "shopper_session_required"],
  pub_wrong_token: [403, "shopper_session_required"],
  shopper_other: [403, "other_shopper"],
});

const notForStores = [403, "customers_not_for_stores"];

/** Routes opened by a signed link token, not a key: everyone gets the same answer. */
const everyone = (expectation) => Object.fromEntries(PRINCIPALS.map((p) => [p, expectation]));

/** A browser's push subscription JSON with a fresh P-256 key and auth secret. */
function subscriptionJson() {
  const ecdh = createECDH("prime256v1");
  return { endpoint: `https://push.example.test/${randomUUID()}`, keys: { p256dh: ecdh.generateKeys().toString("base64url"), auth: randomBytes(16).toString("base64url") } };
}

/** operationId -> { request(world, principal) -> { method, path, body?, headers? }, expect } */
export const MATRIX = {
  getHealth: { request: () => ({ method: "GET", path: "/v1/health" }), expect: { ...anyKey(200), none: 200 } },
  getDeepHealth: { request: () => ({ method: "GET", path: "/v1/health/deep" }), expect: { ...anyKey(200), none: 200 } },
  getOpenApi: { request: () => ({ method: "GET", path: "/v1/openapi.json" }), expect: { ...anyKey(200), none: 200 } },

  createApiKey: {
    request: () => ({ method: "POST", path: "/v1/api-keys", body: { role: "storefront", label: "matrix", channel: "web" } }),
    expect: adminOnly(201),
  },
  listApiKeys: { request: () => ({ method: "GET", path: "/v1/api-keys" }), expect: adminOnly(200) },
  revokeApiKey: {
    request: async (w) => ({ method: "DELETE", path: `/v1/api-keys/${await w.freshKeyId()}` }),
    expect: adminOnly(204),
  },

  listLocations: { request: () => ({ method: "GET", path: "/v1/locations" }), expect: anyKey(200) },
  getLocation: { request: (w) => ({ method: "GET", path: `/v1/locations/${w.store}` }), expect: anyKey(200) },
  putLocation: {
    request: (w) => ({ method: "PUT", path: `/v1/locations/${w.fresh("mx")}`, body: w.locationDraft }),
    expect: adminOnly(201),
  },
  storePickups: {
    request: (w) => ({ method: "GET", path: `/v1/locations/${w.store}/pickups` }),
    expect: { ...adminOnly(200), store_own: 200, store_other: [403, "other_location"] },
  },

  listProducts: { request: () => ({ method: "GET", path: "/v1/products" }), expect: anyKey(200) },
  getProduct: { request: (w) => ({ method: "GET", path: `/v1/products/${w.sku}` }), expect: anyKey(200) },
  putProduct: {
    request: (w) => ({ method: "PUT", path: `/v1/products/${w.fresh("MX")}`, body: w.productDraft }),
    expect: adminOnly(201),
  },

  getSkuStock: { request: (w) => ({ method: "GET", path: `/v1/stock/${w.sku}` }), expect: anyKey(200) },
  getStyleStock: { request: (w) => ({ method: "GET", path: `/v1/stock/${w.sku}/style` }), expect: anyKey(200) },
  lookupStockBatch: { request: (w) => ({ method: "POST", path: "/v1/stock/lookup", body: { skus: [w.sku] } }), expect: anyKey(200) },
  adjustStock: {
    request: (w) => ({
      method: "POST", path: `/v1/stock/${w.sku}/adjustments`,
      body: { location_id: w.store, kind: "delta", quantity: 1, reason: "correction" },
      headers: { "idempotency-key": w.fresh("adj") },
    }),
    expect: secretOnly(201, {
      store_other: [403, "other_location"],
      secret_own: [403, "storefront_cannot_write"],
      secret_other: [403, "storefront_cannot_write"],
    }),
  },
  listStockAdjustments: {
    request: (w) => ({ method: "GET", path: `/v1/stock/${w.sku}/adjustments?location_id=${w.store}` }),
    expect: secretOnly(200, { store_other: [403, "other_location"], secret_own: [403, "admin_only"], secret_other: [403, "admin_only"] }),
  },

  createCustomer: {
    request: (w) => ({ method: "POST", path: "/v1/customers", body: { email: `${w.fresh("mx")}@example.com`, name: "Matrix" } }),
    expect: secretOnly(201, { store_own: notForStores, store_other: notForStores }),
  },
  getCustomer: { request: (w) => ({ method: "GET", path: `/v1/customers/${w.ann.id}` }), expect: shopperData(200) },
  replaceCustomer: {
    request: (w) => ({ method: "PUT", path: `/v1/customers/${w.ann.id}`, body: w.annDraft }),
    expect: shopperData(200, notForStores),
  },
  customerTimeline: { request: (w) => ({ method: "GET", path: `/v1/customers/${w.ann.id}/timeline` }), expect: shopperData(200) },
  createShopperSession: {
    request: (w) => ({ method: "POST", path: "/v1/shopper-sessions", body: { customer_id: w.ann.id, channel: "web" } }),
    expect: secretOnly(201, { store_own: notForStores, store_other: notForStores, secret_other: [403, "other_channel"] }),
  },

  createCart: {
    request: () => ({ method: "POST", path: "/v1/carts", body: { channel: "web" } }),
    expect: {
      ...anyKey(201),
      store_own: [403, "other_channel"],
      store_other: [403, "other_channel"],
      secret_other: [403, "other_channel"],
    },
  },
  getCart: { request: async (w, who) => w.onCart(who, "GET", ""), expect: cartAccess(200) },
  updateCart: {
    request: async (w, who) => w.onCart(who, "PATCH", "", { contact: { email: "ann@example.com" } }),
    expect: cartAccess(200),
  },
  setCartLine: {
    request: async (w, who) => w.onCart(who, "PUT", `/lines/${w.sku}`, { quantity: 1 }),
    expect: cartAccess(200),
  },
  removeCartLine: {
    request: async (w, who) => w.onCart(who, "DELETE", `/lines/${w.sku}`, undefined, { withLine: true }),
    expect: cartAccess(200),
  },
  rotateCartToken: { request: async (w, who) => w.onCart(who, "POST", "/token"), expect: cartAccess(200) },

  getCoupon: { request: (w) => ({ method: "GET", path: `/v1/coupons/${w.coupon}` }), expect: secretOnly(200) },
  putCoupon: {
    request: (w) => ({ method: "PUT", path: `/v1/coupons/${w.fresh("MX").toUpperCase()}`, body: { kind: "percent", percent: "10" } }),
    expect: adminOnly(201),
  },

  placeOrder: {
    request: (w, who) => ({
      method: "POST", path: "/v1/orders",
      body: w.orderBody(who),
      headers: { "idempotency-key": w.fresh("order") },
    }),
    expect: secretOnly(201),
  },
  listOrders: { request: (w) => ({ method: "GET", path: `/v1/orders?customer_id=${w.ann.id}` }), expect: shopperData(200) },
  getOrder: { request: (w) => ({ method: "GET", path: `/v1/orders/${w.order}` }), expect: shopperData(200) },
  moveOrder: {
    request: async (w) => ({ method: "POST", path: `/v1/orders/${await w.freshOrder()}/cancel` }),
    expect: { ...adminOnly(200), store_own: 200, store_other: [403, "other_location"] },
  },

  getVapidPublicKey: { request: () => ({ method: "GET", path: "/v1/reminders/vapid-public-key" }), expect: anyKey(200) },
  registerPushSubscription: {
    request: async (w, who) => w.onCart(who, "POST", "/push-subscriptions", { subscription: subscriptionJson() }),
    expect: cartAccess(201),
  },
  listPushSubscriptions: { request: async (w, who) => w.onCart(who, "GET", "/push-subscriptions"), expect: cartAccess(200) },
  deletePushSubscription: {
    request: async (w, who) => {
      const on = await w.onCart(who, "DELETE", "/push-subscriptions");
      const stored = await call("POST", on.path, { body: { subscription: subscriptionJson() } });
      return { ...on, path: `${on.path}/${stored.json.id}` };
    },
    expect: cartAccess(204),
  },
  recordCartConsent: {
    request: async (w, who) => w.onCart(who, "POST", "/consents", { channel: "email", granted: true }),
    expect: cartAccess(201),
  },
  getCartReminders: { request: async (w, who) => w.onCart(who, "GET", "/reminders"), expect: secretOnly(200) },
  getReminderReport: { request: () => ({ method: "GET", path: "/v1/reminders/report" }), expect: adminOnly(200) },
  unsubscribePage: {
    request: () => ({ method: "GET", path: "/v1/reminders/unsubscribe?token=k1.e30.AAAA" }),
    expect: everyone([400, "invalid_link_token"]),
  },
  unsubscribeOneClick: {
    request: () => ({ method: "POST", path: "/v1/reminders/unsubscribe?token=k1.e30.AAAA" }),
    expect: everyone([400, "invalid_link_token"]),
  },
  followReminderLink: { request: () => ({ method: "GET", path: "/v1/reminders/click/k1.e30.AAAA" }), expect: everyone([400, "invalid_link_token"]) },
  reportReminderShown: { request: () => ({ method: "POST", path: "/v1/reminders/shown/k1.e30.AAAA" }), expect: everyone([400, "invalid_link_token"]) },
  openReturn: {
    request: async (w) => ({
      method: "POST", path: "/v1/returns",
      body: { order_id: await w.collectedOrder(), location_id: w.store, lines: [{ sku: w.sku, quantity: 1, reason: { code: "wrong_size" } }] },
      headers: { "idempotency-key": w.fresh("ret") },
    }),
    expect: { ...shopperData(201), store_other: [403, "other_location"] },
  },
  listReturns: { request: (w) => ({ method: "GET", path: `/v1/returns?order_id=${w.returnedOrder}` }), expect: shopperData(200) },
  getReturn: { request: (w) => ({ method: "GET", path: `/v1/returns/${w.returnId}` }), expect: shopperData(200) },
  moveReturn: {
    request: async (w) => ({ method: "POST", path: `/v1/returns/${await w.freshReturn()}/cancel`, headers: { "idempotency-key": w.fresh("cancel") } }),
    expect: { ...shopperData(200), store_other: [403, "other_location"] },
  },
  expectedReturns: {
    request: (w) => ({ method: "GET", path: `/v1/locations/${w.store}/returns` }),
    expect: { ...adminOnly(200), store_own: 200, store_other: [403, "other_location"] },
  },
  damagedUnits: {
    request: (w) => ({ method: "GET", path: `/v1/locations/${w.store}/damaged-units` }),
    expect: { ...adminOnly(200), store_own: 200, store_other: [403, "other_location"] },
  },
  storeCredit: { request: (w) => ({ method: "GET", path: `/v1/customers/${w.ann.id}/store-credit` }), expect: shopperData(200) },
  // Nothing damaged to write off at the store: who may call gets as far as the count.
  writeOffDamagedUnits: {
    request: (w) => ({
      method: "POST", path: `/v1/locations/${w.store}/damaged-units/write-offs`,
      body: { sku: w.sku, quantity: 1000000, reason: "matrix" },
      headers: { "idempotency-key": w.fresh("wo") },
    }),
    expect: { ...adminOnly([422, "write_off_exceeds_damaged"]), store_own: [422, "write_off_exceeds_damaged"], store_other: [403, "other_location"] },
  },
};
