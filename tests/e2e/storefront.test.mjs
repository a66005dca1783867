// Storefronts in the browser: publishable keys (prefix, channel, allowed origins; issued,
// listed, revoked), CORS (preflights, each request's origin against its own key), cart
// capability tokens (answered once, rotated), shopper sessions (a server asks, the
// browser reads only its shopper's data; the previous signing key still verifies) and
// the rate limits on publishable writes and on secret keys' holding calls. Calls carry
// `Origin` as a browser would.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { BASE, call, expectProblem, expectStatus, fresh, issueKey, location, product, stock } from "./api.mjs";
import { counts, newCart, setLine, storefrontKey, world } from "./retail-fixtures.mjs";

const SHOP = "https://shop.example.test";

async function publishableKey(origins = [SHOP], channel = "web") {
  return issueKey({ role: "publishable", channel, allowed_origins: origins });
}

/** A stocked SKU at a fresh store. */
async function stocked(units = 50) {
  const [store, sku] = [fresh("sf-store"), fresh("SF")];
  await location(store);
  await product(sku);
  await stock(sku, store, units);
  return { store, sku };
}

/** A raw fetch (for preflights, which the contract does not describe). */
const raw = (method, path, headers) => fetch(BASE + path, { method, headers });

describe("publishable keys", () => {
  test("are recognisable, bound to a channel and origins, listed and revoked", async () => {
    const issued = await publishableKey(["HTTPS://Shop.Example.test", "http://127.0.0.1:9000"]);
    assert.match(issued.secret, /^oe_pub_[0-9a-f]{64}$/);
    assert.deepEqual([issued.role, issued.channel], ["publishable", "web"]);
    assert.deepEqual(issued.allowed_origins, ["http://127.0.0.1:9000", SHOP], "normalized");
    const listed = expectStatus(await call("GET", "/v1/api-keys"), 200).items.find((k) => k.id === issued.id);
    assert.deepEqual(listed.allowed_origins, issued.allowed_origins);
    assert.equal(listed.secret, undefined);

    const bad = [[], ["shop.example"], ["https://x/path"], ["*"], [SHOP, SHOP]];
    for (const allowed_origins of bad) {
      const answer = await call("POST", "/v1/api-keys", { body: { role: "publishable", label: "x", channel: "web", allowed_origins } });
      expectProblem(answer, 422, "invalid_body", JSON.stringify(allowed_origins));
    }
    expectProblem(await call("POST", "/v1/api-keys", { body: { role: "publishable", label: "x", channel: "store", allowed_origins: [SHOP] } }), 422, "invalid_body");

    const origin = `https://${fresh("revoked")}.example`;
    const short = await publishableKey([origin]);
    const preflight = () => raw("OPTIONS", "/v1/carts", { origin, "access-control-request-method": "POST" });
    assert.equal((await preflight()).status, 204);
    assert.equal((await call("DELETE", `/v1/api-keys/${short.id}`)).status, 204);
    expectProblem(await call("GET", "/v1/locations", { key: short.secret }), 401, "unauthorized");
    assert.equal((await preflight()).status, 403, "no live key allows the origin any more");
  });
});

describe("CORS", () => {
  test("a preflight is answered for an origin some live publishable key allows", async () => {
    const { sku } = await stocked();
    const origin = `https://${fresh("pf")}.example`;
    await publishableKey([origin]);
    const answer = await raw("OPTIONS", `/v1/carts/cart_x/lines/${sku}`, {
      origin, "access-control-request-method": "PUT", "access-control-request-headers": "authorization, content-type, x-cart-token",
    });
    assert.equal(answer.status, 204);
    assert.equal(answer.headers.get("access-control-allow-origin"), origin);
    assert.match(answer.headers.get("vary"), /Origin/);
    assert.equal(answer.headers.get("access-control-allow-methods"), "PUT, DELETE");
    const allowed = answer.headers.get("access-control-allow-headers").toLowerCase();
    for (const header of ["authorization", "content-type", "idempotency-key", "x-cart-token", "x-shopper-token"]) assert.ok(allowed.includes(header), header);
    assert.ok(Number(answer.headers.get("access-control-max-age")) > 0);

    const stranger = await raw("OPTIONS", "/v1/carts", { origin: "https://evil.example", "access-control-request-method": "POST" });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.headers.get("access-control-allow-origin"), null);
    assert.equal((await stranger.json()).code, "origin_not_allowed");
    const unknownRoute = await raw("OPTIONS", "/v1/nowhere", { origin, "access-control-request-method": "GET" });
    assert.equal(unknownRoute.status, 404);
  });

  test("each request's origin is checked against its own key; other pages are refused and change nothing", async () => {
    const { sku } = await stocked();
    const mine = await publishableKey([SHOP]);
    const other = `https://${fresh("other")}.example`;
    await publishableKey([other]);
    const ok = await call("GET", `/v1/stock/${sku}`, { key: mine.secret, headers: { origin: SHOP } });
    expectStatus(ok, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), SHOP);
    assert.match(ok.headers.get("vary"), /Origin/);
    assert.match(ok.headers.get("access-control-expose-headers"), /Idempotent-Replayed/);
    assert.match(ok.headers.get("access-control-expose-headers"), /Retry-After/);

    const cart = expectStatus(await call("POST", "/v1/carts", { key: mine.secret, body: {}, headers: { origin: SHOP } }), 201);
    const refused = await call("PUT", `/v1/carts/${cart.id}/lines/${sku}`, {
      key: mine.secret, body: { quantity: 1 }, headers: { origin: other, "x-cart-token": cart.cart_token },
    });
    expectProblem(refused, 403, "origin_not_allowed", "another live key's origin is not this key's");
    assert.equal(refused.headers.get("access-control-allow-origin"), null, "no CORS headers: the browser blocks the page");
    const unchanged = expectStatus(await call("GET", `/v1/carts/${cart.id}`, { key: mine.secret, headers: { "x-cart-token": cart.cart_token } }), 200);
    assert.deepEqual(unchanged.lines, [], "the refused change changed nothing");

    const noOrigin = await call("GET", `/v1/stock/${sku}`, { key: mine.secret });
    expectStatus(noOrigin, 200, "apps and servers send no Origin");
    assert.equal(noOrigin.headers.get("access-control-allow-origin"), null);
    const secret = await call("GET", `/v1/stock/${sku}`, { headers: { origin: SHOP } });
    expectStatus(secret, 200);
    assert.equal(secret.headers.get("access-control-allow-origin"), null, "secret keys are never handed to a page");
    const anonymous = await call("GET", `/v1/stock/${sku}`, { key: null, headers: { origin: SHOP } });
    expectProblem(anonymous, 401, "unauthorized");
    assert.equal(anonymous.headers.get("access-control-allow-origin"), SHOP, "an allowed page can read why it was refused");
  });
});

describe("cart tokens", () => {
  test("answered once at creation, required by publishable keys, rotated", async () => {
    const { sku } = await stocked();
    const key = (await publishableKey()).secret;
    const cart = expectStatus(await call("POST", "/v1/carts", { key, body: { contact: { email: "guest@example.com" } } }), 201);
    assert.match(cart.cart_token, /^ct_[0-9a-f]{64}$/);
    assert.equal(cart.channel, "web");
    const withToken = (token) => ({ key, headers: { "x-cart-token": token } });
    expectStatus(await call("PUT", `/v1/carts/${cart.id}/lines/${sku}`, { ...withToken(cart.cart_token), body: { quantity: 2 } }), 200);
    const read = expectStatus(await call("GET", `/v1/carts/${cart.id}`, withToken(cart.cart_token)), 200);
    assert.equal(read.cart_token, undefined, "the token is shown only at creation");
    expectProblem(await call("GET", `/v1/carts/${cart.id}`, { key }), 403, "cart_token_required");

    const rotated = expectStatus(await call("POST", `/v1/carts/${cart.id}/token`, withToken(cart.cart_token)), 200);
    assert.notEqual(rotated.cart_token, cart.cart_token);
    expectProblem(await call("GET", `/v1/carts/${cart.id}`, withToken(cart.cart_token)), 403, "cart_token_invalid", "the old token stopped working");
    expectStatus(await call("GET", `/v1/carts/${cart.id}`, withToken(rotated.cart_token)), 200);

    const app = (await publishableKey([SHOP], "app")).secret;
    expectProblem(await call("GET", `/v1/carts/${cart.id}`, { key: app, headers: { "x-cart-token": rotated.cart_token } }), 403, "other_channel");
    expectProblem(await call("POST", "/v1/carts", { key, body: { channel: "app" } }), 403, "other_channel");
    expectProblem(await call("POST", "/v1/carts", { key, body: { customer_id: "cus_someone" } }), 403, "shopper_session_required");
    const server = expectStatus(await call("POST", "/v1/carts", { body: { channel: "web" } }), 201, "a server-made cart");
    expectStatus(await call("GET", `/v1/carts/${server.id}`, withToken(server.cart_token)), 200, "a server hands its cart's token to the page");
  });
});

/** A shopper token signed here, with `OMNIEDGE_PREVIOUS_SIGNING_KEY` (`kid:secret`), as the worker would have. */
function signWithPrevious(claims) {
  const [kid, ...rest] = process.env.OMNIEDGE_PREVIOUS_SIGNING_KEY.split(":");
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const input = `${b64({ alg: "HS256", typ: "JWT", kid })}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", rest.join(":")).update(input).digest("base64url")}`;
}

describe("shopper sessions", () => {
  test("log in, claim the guest cart, read only your own profile and orders from every channel", async () => {
    const { store, sku } = await stocked();
    const server = (await issueKey({ role: "storefront", channel: "web" })).secret;
    const browser = (await publishableKey()).secret;
    const customer = async (name) =>
      expectStatus(await call("POST", "/v1/customers", { key: server, body: { email: `${fresh(name)}@example.com`, name } }), 201);
    const [ann, bob] = [await customer("Ann"), await customer("Bob")];

    // A guest shops in the browser with the publishable key.
    const guest = expectStatus(await call("POST", "/v1/carts", { key: browser, body: {} }), 201);
    const cartHeaders = { "x-cart-token": guest.cart_token };
    expectStatus(await call("PUT", `/v1/carts/${guest.id}/lines/${sku}`, { key: browser, headers: cartHeaders, body: { quantity: 1 } }), 200);

    // She logs in: the storefront's server asks for her session.
    const session = expectStatus(await call("POST", "/v1/shopper-sessions", { key: server, body: { customer_id: ann.id, ttl_seconds: 600 } }), 201);
    assert.deepEqual([session.token_type, session.customer_id, session.channel], ["shopper", ann.id, "web"]);
    const expiresIn = Date.parse(session.expires_at) - Date.now();
    assert.ok(expiresIn > 500_000 && expiresIn <= 600_000, `expires in about 10 minutes (${expiresIn} ms)`);
    const as = (token, extra = {}) => ({ key: browser, headers: { "x-shopper-token": token, ...extra } });
    const annIs = as(session.token);

    // She claims the guest cart; afterwards her session reaches it, the token alone does not.
    const claimed = expectStatus(await call("PATCH", `/v1/carts/${guest.id}`, { ...as(session.token, cartHeaders), body: { customer_id: ann.id } }), 200);
    assert.equal(claimed.customer_id, ann.id);
    expectStatus(await call("GET", `/v1/carts/${guest.id}`, annIs), 200);
    expectProblem(await call("GET", `/v1/carts/${guest.id}`, { key: browser, headers: cartHeaders }), 403, "shopper_session_required");

    // Her profile and consents are hers to read and change; Bob's are not.
    expectStatus(await call("GET", `/v1/customers/${ann.id}`, annIs), 200);
    const changed = expectStatus(await call("PUT", `/v1/customers/${ann.id}`, { ...annIs, body: { email: ann.email, name: "Ann B.", consents: { email_reminders: true } } }), 200);
    assert.equal(changed.name, "Ann B.");
    expectProblem(await call("GET", `/v1/customers/${bob.id}`, annIs), 403, "other_shopper");
    expectProblem(await call("PUT", `/v1/customers/${bob.id}`, { ...annIs, body: { email: bob.email, name: "x" } }), 403, "other_shopper");
    expectProblem(await call("POST", "/v1/customers", { ...annIs, body: { email: "x@example.com", name: "x" } }), 403, "publishable_key_not_allowed");

    // Orders from the web (her claimed cart, placed by the server) and from a store.
    const order = (body) => call("POST", "/v1/orders", { key: server, body, headers: { "idempotency-key": fresh("o") } });
    const web = expectStatus(await order({ cart_id: guest.id, fulfilment: { type: "pickup", location_id: store }, payment: { method: "pay_on_pickup" } }), 201);
    const pos = (await issueKey({ role: "store", location_id: store })).secret;
    const inStore = expectStatus(await call("POST", "/v1/orders", {
      key: pos, headers: { "idempotency-key": fresh("o") },
      body: { customer_id: ann.id, lines: [{ sku, quantity: 1 }], fulfilment: { type: "in_store" }, payment: { method: "paid_in_store" } },
    }), 201);
    const bobs = expectStatus(await order({ customer_id: bob.id, lines: [{ sku, quantity: 1 }], fulfilment: { type: "pickup", location_id: store }, payment: { method: "pay_on_pickup" } }), 201);
    expectProblem(await call("POST", "/v1/orders", { ...annIs, body: {}, headers: { ...annIs.headers, "idempotency-key": fresh("o") } }), 403, "publishable_key_not_allowed");

    const mine = expectStatus(await call("GET", `/v1/orders?customer_id=${ann.id}`, annIs), 200);
    assert.deepEqual(mine.items.map((o) => o.id).sort(), [web.id, inStore.id].sort(), "her orders from every channel");
    assert.deepEqual([...new Set(mine.items.map((o) => o.channel))].sort(), ["store", "web"]);
    expectStatus(await call("GET", `/v1/orders/${web.id}`, annIs), 200);
    expectProblem(await call("GET", `/v1/orders/${bobs.id}`, annIs), 403, "other_shopper");
    expectProblem(await call("GET", `/v1/orders?customer_id=${bob.id}`, annIs), 403, "other_shopper");
    const timeline = expectStatus(await call("GET", `/v1/customers/${ann.id}/timeline`, annIs), 200);
    assert.ok(timeline.items.length >= 2);
    expectProblem(await call("GET", `/v1/customers/${bob.id}/timeline`, annIs), 403, "other_shopper");
  });

  test("tokens: the previous signing key still verifies; expired, forged and other-channel tokens are refused", async () => {
    const server = (await issueKey({ role: "storefront", channel: "web" })).secret;
    const browser = (await publishableKey()).secret;
    const ann = expectStatus(await call("POST", "/v1/customers", { key: server, body: { email: `${fresh("ann")}@example.com`, name: "Ann" } }), 201);
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: "omniedge", aud: "omniedge:web", sub: ann.id, iat: now, exp: now + 300 };
    const read = (token) => call("GET", `/v1/customers/${ann.id}`, { key: browser, headers: { "x-shopper-token": token } });
    expectStatus(await read(signWithPrevious(claims)), 200, "signed before the rotation, still valid");
    expectProblem(await read(signWithPrevious({ ...claims, iat: now - 600, exp: now - 1 })), 401, "shopper_token_expired");
    expectProblem(await read(signWithPrevious({ ...claims, aud: "omniedge:app" })), 401, "invalid_shopper_token");
    const genuine = expectStatus(await call("POST", "/v1/shopper-sessions", { key: server, body: { customer_id: ann.id } }), 201).token;
    const [header, , signature] = genuine.split(".");
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "cus_someone_else" })).toString("base64url");
    expectProblem(await read(`${header}.${forged}.${signature}`), 401, "invalid_shopper_token");
    expectProblem(await read("not-a-token"), 401, "invalid_shopper_token");
    const app = (await publishableKey([SHOP], "app")).secret;
    expectProblem(await call("GET", `/v1/customers/${ann.id}`, { key: app, headers: { "x-shopper-token": genuine } }), 401, "invalid_shopper_token");
    expectProblem(await call("POST", "/v1/shopper-sessions", { key: server, body: { customer_id: ann.id, ttl_seconds: 7200 } }), 422, "invalid_body");
    expectProblem(await call("POST", "/v1/shopper-sessions", { key: server, body: { customer_id: "cus_nobody" } }), 404, "customer_not_found");
  });
});

describe("abuse limits", () => {
  test("publishable writes are rate limited per key and client: 429 with Retry-After; reads and other keys go on", async () => {
    const key = (await publishableKey()).secret;
    let refused;
    // 60 a minute in fixed windows: 121 writes in under a minute put 61 in one window,
    // wherever the window boundary falls among them.
    for (let i = 0; i < 121 && !refused; i++) {
      const answer = await call("POST", "/v1/carts", { key, body: {}, headers: { origin: SHOP } });
      if (answer.status === 429) refused = answer;
      else expectStatus(answer, 201);
    }
    assert.ok(refused, "refused within 121 writes in under a minute");
    expectProblem(refused, 429, "rate_limited");
    assert.ok(Number(refused.headers.get("retry-after")) > 0, "Retry-After");
    assert.equal(refused.headers.get("access-control-allow-origin"), SHOP, "the page can read the refusal");
    expectStatus(await call("GET", "/v1/locations", { key }), 200, "reads are not limited");
    expectStatus(await call("POST", "/v1/carts", { key: (await publishableKey()).secret, body: {} }), 201, "another key has its own budget");
  });

  test("a secret storefront key's holding calls are rate limited: the refused one holds nothing", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 50 } } });
    const web = await storefrontKey("web");
    const { json: cart } = await newCart({}, web);
    let refused;
    let quantity = 1;
    for (let sent = 0; sent < 700 && !refused; sent += 10) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => setLine(cart.id, sku.shoe, 1 + (quantity++ % 2), web)));
      refused = answers.find((a) => a.status === 429);
      for (const a of answers) if (a.status !== 429) expectStatus(a, 200);
    }
    assert.ok(refused, "refused once a 10 s window sees more than 100 holding calls");
    expectProblem(refused, 429, "rate_limited");
    assert.ok(Number(refused.headers.get("retry-after")) > 0, "Retry-After");
    const { json: now } = await call("GET", `/v1/carts/${cart.id}`, { key: web });
    assert.equal((await counts(sku.shoe, loc.shop)).held, now.lines[0].quantity, "what is held is the cart's line, nothing more");
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200, "admin keys are not limited");
    expectStatus(await setLine(cart.id, sku.shoe, 2, await storefrontKey("web")), 200, "another key has its own budget");
  });
});
