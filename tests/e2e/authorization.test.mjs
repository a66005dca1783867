// The authorization matrix (authorization-matrix.mjs) against the worker: every
// operation in the OpenAPI document × every principal gets the answer its row says,
// and no answer a shopper gets carries another customer's data.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, call, expectStatus, fresh, issueKey, location, locationDraft, product, productDraft, stock } from "./api.mjs";
import { documentedOperations } from "./contract.mjs";
import { MATRIX, PRINCIPALS } from "./authorization-matrix.mjs";

const ORIGIN = "https://shop.matrix.test";

/** The world every row acts on, and each principal's credentials. */
async function buildWorld() {
  const [store, otherStore, sku] = [fresh("mx-own"), fresh("mx-other"), fresh("MX")];
  await location(store);
  await location(otherStore);
  await product(sku);
  await stock(sku, store, 5000);
  await stock(sku, otherStore, 5000);
  const coupon = fresh("MXC").toUpperCase();
  expectStatus(await call("PUT", `/v1/coupons/${coupon}`, { body: { kind: "percent", percent: "5" } }), 201, "coupon");
  const customer = async (name) =>
    expectStatus(await call("POST", "/v1/customers", { body: { email: `${fresh(name)}@example.com`, name } }), 201, name);
  const [ann, bob] = [await customer("ann"), await customer("bob")];
  const annDraft = { email: ann.email, name: ann.name };
  const secretWeb = (await issueKey({ role: "storefront", channel: "web" })).secret;
  const session = async (customer) =>
    expectStatus(await call("POST", "/v1/shopper-sessions", { key: secretWeb, body: { customer_id: customer.id } }), 201, "session").token;
  const publishable = async () => (await issueKey({ role: "publishable", channel: "web", allowed_origins: [ORIGIN] })).secret;
  const credentials = {
    admin: { key: ADMIN },
    store_own: { key: (await issueKey({ role: "store", location_id: store })).secret },
    store_other: { key: (await issueKey({ role: "store", location_id: otherStore })).secret },
    secret_own: { key: secretWeb },
    secret_other: { key: (await issueKey({ role: "storefront", channel: "app" })).secret },
    pub_token: { key: await publishable() },
    pub_no_token: { key: await publishable() },
    pub_wrong_token: { key: await publishable() },
    shopper_own: { key: await publishable(), headers: { "x-shopper-token": await session(ann) } },
    shopper_other: { key: await publishable(), headers: { "x-shopper-token": await session(bob) } },
    none: { key: null },
  };
  const placeFor = async (customerId) => {
    const body = { channel: "web", customer_id: customerId, lines: [{ sku, quantity: 1 }], fulfilment: { type: "pickup", location_id: store }, payment: { method: "pay_on_pickup" } };
    return expectStatus(await call("POST", "/v1/orders", { body, headers: { "idempotency-key": fresh("mxo") } }), 201, "order").id;
  };
  /** One of Ann's pickup orders, collected: returnable. */
  const collectedOrder = async () => {
    const id = await placeFor(ann.id);
    for (const action of ["mark_ready", "collect"]) expectStatus(await call("POST", `/v1/orders/${id}/${action}`), 200, action);
    return id;
  };
  /** A return of one unit of a fresh collected order, expected at the own store. */
  const freshReturn = async (orderId) => {
    const body = { order_id: orderId ?? (await collectedOrder()), location_id: store, lines: [{ sku, quantity: 1, reason: { code: "defective" } }] };
    return expectStatus(await call("POST", "/v1/returns", { body, headers: { "idempotency-key": fresh("mxr") } }), 201, "return").id;
  };
  const returnedOrder = await collectedOrder();
  const world = {
    store, otherStore, sku, coupon, ann, bob, annDraft, credentials,
    collectedOrder, freshReturn, returnedOrder,
    returnId: await freshReturn(returnedOrder),
    fresh,
    locationDraft: locationDraft(),
    productDraft: productDraft(),
    order: await placeFor(ann.id),
    otherOrder: await placeFor(bob.id),
    freshOrder: () => placeFor(ann.id),
    async freshKeyId() {
      return (await issueKey({ role: "storefront", channel: "web" })).id;
    },
    /** A request on a fresh web cart: Ann's for shopper sessions, a guest's for everyone else. */
    async onCart(who, method, suffix, body, { withLine = false } = {}) {
      const shopper = who.startsWith("shopper_");
      const draft = shopper ? { channel: "web", customer_id: ann.id } : { channel: "web" };
      const cart = expectStatus(await call("POST", "/v1/carts", { body: draft }), 201, "cart");
      if (withLine) expectStatus(await call("PUT", `/v1/carts/${cart.id}/lines/${sku}`, { body: { quantity: 1 } }), 200, "line");
      const other = expectStatus(await call("POST", "/v1/carts", { body: { channel: "web" } }), 201, "other cart");
      const token = { pub_token: cart.cart_token, pub_wrong_token: other.cart_token }[who];
      return { method, path: `/v1/carts/${cart.id}${suffix}`, body, headers: token ? { "x-cart-token": token } : {} };
    },
    orderBody(who) {
      const lines = [{ sku, quantity: 1 }];
      if (who.startsWith("store_")) return { lines, fulfilment: { type: "in_store" }, payment: { method: "paid_in_store" } };
      const pickup = { lines, fulfilment: { type: "pickup", location_id: store }, payment: { method: "pay_on_pickup" } };
      return who === "admin" ? { ...pickup, channel: "web" } : pickup;
    },
  };
  return world;
}

/** Whether any order, customer or cart in `body` belongs to someone other than `customerId`. */
function foreignCustomers(body, customerId) {
  const found = [];
  const walk = (node) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (key === "customer_id" && value !== customerId) found.push(value);
        else walk(value);
      }
    }
  };
  walk(body);
  return found;
}

describe("authorization matrix", () => {
  let world;
  before(async () => {
    world = await buildWorld();
  });

  test("every documented operation has a row, and every row a documented operation", () => {
    const documented = documentedOperations().map((o) => o.operationId).sort();
    const missing = documented.filter((id) => !MATRIX[id]);
    assert.deepEqual(missing, [], `operations without a row in authorization-matrix.mjs: ${missing.join(", ")}`);
    assert.deepEqual(Object.keys(MATRIX).filter((id) => !documented.includes(id)), [], "rows for operations the document lacks");
    for (const [id, row] of Object.entries(MATRIX)) {
      assert.deepEqual(Object.keys(row.expect).sort(), [...PRINCIPALS].sort(), `${id}: one expectation per principal`);
    }
  });

  for (const { method, path, operationId } of documentedOperations()) {
    test(`${operationId} (${method} ${path}) for every principal`, async (t) => {
      const row = MATRIX[operationId];
      if (!row) assert.fail(`${operationId} has no row in the authorization matrix`);
      for (const who of PRINCIPALS) {
        const request = await row.request(world, who);
        assert.equal(request.method, method, `${operationId}: the row's request is for ${method}`);
        const { key, headers = {} } = world.credentials[who];
        const answer = await call(request.method, request.path, {
          key, body: request.body, headers: { ...headers, ...request.headers },
        });
        const expected = row.expect[who];
        const [status, code] = Array.isArray(expected) ? expected : [expected];
        const context = `${operationId} as ${who}: ${JSON.stringify(answer.json)?.slice(0, 300)}`;
        assert.equal(answer.status, status, context);
        if (code) assert.equal(answer.json?.code, code, context);
        // (The OpenAPI document names customer_id everywhere; it holds no data.)
        if (who === "shopper_own" && status < 300 && operationId !== "getOpenApi") {
          assert.deepEqual(foreignCustomers(answer.json, world.ann.id), [], `${context}: nothing of another customer`);
        }
      }
    });
  }
});
