// Cart-abandonment reminders end to end: the worker in workerd (real D1, cart objects
// with alarms, the local queue) with the sequence shortened to seconds by scripts/test.sh
// (`push@3s,email@3s`), a strict Web Push service and email API (reminder-standins.mjs)
// on this suite's ports. Each test uses its own shopper, so the 24 h frequency cap of
// one never touches another.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, BASE, call, expectProblem, expectStatus, issueKey, sleep } from "./api.mjs";
import { inStore, newCart, newCustomer, paid, placed, setLine, storeKey, world } from "./retail-fixtures.mjs";
import { emailApi, pushService } from "./reminder-standins.mjs";

const PUSH_PORT = Number(process.env.OMNIEDGE_PUSH_PORT ?? 8821);
const EMAIL_PORT = Number(process.env.OMNIEDGE_EMAIL_API_PORT ?? 8822);
const EMAIL_TOKEN = process.env.OMNIEDGE_EMAIL_API_TOKEN ?? "test-email-token";
/** The configured delay of both steps (scripts/test.sh: push@3s,email@3s). */
const DELAY_MS = 3000;

let push;
let email;

before(async () => {
  const key = expectStatus(await call("GET", "/v1/reminders/vapid-public-key"), 200).public_key;
  assert.match(key, /^[A-Za-z0-9_-]{87}$/, "an uncompressed P-256 point, base64url");
  push = await pushService(PUSH_PORT, key);
  email = await emailApi(EMAIL_PORT, EMAIL_TOKEN);
});
after(async () => {
  await push?.close();
  await email?.close();
});

/** A stocked world with two products. */
const shop = () => world({ locations: { shop: {} }, products: { shoe: { price: "89.95" }, sock: { price: "9.50" } }, stock: { shoe: { shop: 20 }, sock: { shop: 20 } } });

/** The cart's reminder log (back office). */
const logOf = async (cartId) => expectStatus(await call("GET", `/v1/carts/${cartId}/reminders`), 200);

/** Waits until `done(log)` holds for the cart's log (or fails after `ms`). */
async function until(cartId, done, ms = 20000) {
  const start = Date.now();
  let log;
  while (Date.now() - start < ms) {
    log = await logOf(cartId);
    if (done(log)) return log;
    await sleep(300);
  }
  assert.fail(`the cart's reminders did not settle: ${JSON.stringify(log)}`);
}

const events = (log, event) => log.entries.filter((e) => e.event === event);
const decided = (channel) => (log) => log.entries.some((e) => e.channel === channel && ["sent", "skipped", "failed"].includes(e.event));
const mailsTo = (address) => email.sent().filter((m) => m.mail.to.includes(address));

/** Registers a stand-in subscription for the cart; returns the stand-in's id for it. */
async function subscribe(cartId, key) {
  const sub = push.subscribe();
  const answer = await call("POST", `/v1/carts/${cartId}/push-subscriptions`, { body: { subscription: sub.json, device: "test browser" }, key });
  expectStatus(answer, 201, "subscription");
  assert.equal(answer.json.endpoint, sub.json.endpoint);
  assert.equal(answer.json.p256dh, undefined, "keys are not answered back");
  return sub.id;
}

describe("reminders", () => {
  test("push and email go once, on time, with the cart's current lines, after a change re-armed the wait", async () => {
    const { sku } = await shop();
    const customer = await newCustomer({ consents: { email_reminders: true, push_reminders: true } });
    const cart = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    const device = await subscribe(cart.id);
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200);
    await sleep(1500);
    const changed = Date.now();
    expectStatus(await setLine(cart.id, sku.sock, 2), 200, "a change during the wait re-arms it");
    const log = await until(cart.id, (l) => events(l, "sent").length === 2);
    assert.deepEqual(log.counts, { clicked: 0, failed: 0, sent: 2, shown: 0, skipped: 0 });

    const pushes = push.received(device);
    assert.equal(pushes.length, 1, JSON.stringify(pushes.map((p) => p.error)));
    const [delivered] = pushes;
    assert.ok(delivered.at - changed >= DELAY_MS - 100, `sent ${delivered.at - changed} ms after the last change`);
    assert.equal(delivered.claims.aud, `http://127.0.0.1:${PUSH_PORT}`);
    assert.match(delivered.claims.sub, /^mailto:/);
    assert.equal(delivered.headers.urgency, "normal");
    assert.equal(delivered.headers.topic.length, 32);
    const note = delivered.payload;
    assert.equal(note.title, "Still thinking it over?");
    assert.ok(note.body.length <= 140 && note.body.includes("Shoe ") && note.body.includes("and 1 more") && note.body.endsWith("Complete your order →"), note.body);
    assert.match(note.url, /\/v1\/reminders\/click\//);
    assert.match(note.shown_url, /\/v1\/reminders\/shown\//);

    const mails = mailsTo(customer.email);
    assert.equal(mails.length, 1);
    const { mail, idempotencyKey } = mails[0];
    assert.equal(idempotencyKey, `reminder:${cart.id}:2`);
    assert.match(mail.text, new RegExp(`1 × Shoe ${sku.shoe} \\(42, black\\): 89.95 EUR`));
    assert.match(mail.text, new RegExp(`2 × Shoe ${sku.sock} \\(42, black\\): 19.00 EUR`), "the line added during the wait is in");
    assert.match(mail.text, /Subtotal: 108.95 EUR/);
    assert.match(mail.html, /Complete your order<\/a>/);
    assert.match(mail.headers["List-Unsubscribe"], /^<http:\/\/127\.0\.0\.1:\d+\/v1\/reminders\/unsubscribe\?token=[^>]+>$/);
    assert.equal(mail.headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
    assert.ok(mail.html.includes("Unsubscribe from cart reminders"), "a visible unsubscribe link");

    await sleep(DELAY_MS);
    assert.equal(push.received(device).length, 1, "nothing more after the sequence ran");
    assert.equal(mailsTo(customer.email).length, 1);
  });

  test("no reminder after the shopper bought in a store meanwhile", async () => {
    const { loc, sku } = await shop();
    const customer = await newCustomer({ consents: { email_reminders: true, push_reminders: true } });
    const cart = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    const device = await subscribe(cart.id);
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200);
    const pos = await storeKey(loc.shop);
    await placed({ lines: [{ sku: sku.sock, quantity: 1 }], fulfilment: inStore(), payment: paid("paid_in_store"), customer_id: customer.id }, { key: pos });
    const log = await until(cart.id, (l) => decided("push")(l) && decided("email")(l));
    assert.deepEqual(log.entries.map((e) => [e.channel, e.event, e.detail]).sort(), [["email", "skipped", "ordered_elsewhere"], ["push", "skipped", "ordered_elsewhere"]]);
    assert.equal(push.received(device).length, 0);
    assert.equal(mailsTo(customer.email).length, 0);
  });

  test("an ordered cart reminds of nothing", async () => {
    const { loc, sku } = await shop();
    const customer = await newCustomer({ consents: { email_reminders: true, push_reminders: true } });
    const cart = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    const device = await subscribe(cart.id);
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200);
    await placed({ cart_id: cart.id, fulfilment: { type: "pickup", location_id: loc.shop }, payment: paid("pay_on_pickup") });
    await sleep(DELAY_MS + 3000);
    const log = await logOf(cart.id);
    assert.equal(events(log, "sent").length, 0, JSON.stringify(log));
    assert.equal(push.received(device).length, 0);
    assert.equal(mailsTo(customer.email).length, 0);
  });

  test("without consent nothing goes: a guest's typed address is not enough, and no subscription means no push", async () => {
    const { sku } = await shop();
    const address = `guest-${Date.now()}@example.com`;
    const cart = expectStatus(await newCart({ channel: "web", contact: { email: address } }), 201);
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200);
    const log = await until(cart.id, (l) => decided("push")(l) && decided("email")(l));
    assert.deepEqual(log.entries.map((e) => [e.channel, e.event, e.detail]).sort(), [["email", "skipped", "no_consent"], ["push", "skipped", "no_subscription"]]);
    assert.equal(mailsTo(address).length, 0);

    // Consent on the guest cart (recorded with its source), then a change: the email goes.
    const consent = expectStatus(await call("POST", `/v1/carts/${cart.id}/consents`, { body: { channel: "email", granted: true } }), 201);
    assert.deepEqual([consent.channel, consent.granted, consent.source, consent.cart_id], ["email", true, "back_office", cart.id]);
    expectStatus(await setLine(cart.id, sku.shoe, 2), 200);
    await until(cart.id, (l) => events(l, "sent").length === 1);
    assert.equal(mailsTo(address).length, 1);
  });

  test("the one-click unsubscribe (POST, no key, no redirect) stops the next reminder", async () => {
    const { sku } = await shop();
    const customer = await newCustomer({ consents: { email_reminders: true } });
    const first = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    expectStatus(await setLine(first.id, sku.shoe, 1), 200);
    await until(first.id, (l) => events(l, "sent").length === 1);
    const link = /^<(.+)>$/.exec(mailsTo(customer.email)[0].mail.headers["List-Unsubscribe"])[1];
    const path = link.slice(link.indexOf("/v1/"));

    const page = await fetch(BASE + path);
    assert.equal(page.status, 200, "the visible link shows a page; a GET changes nothing");
    assert.match(await page.text(), /<form method="post"/);
    const tampered = await call("POST", path.replace(/token=([^.]+)\.([^.]+)\./, "token=$1.$2x."), { key: null, rawBody: "List-Unsubscribe=One-Click", contentType: "application/x-www-form-urlencoded" });
    expectProblem(tampered, 400, "invalid_link_token");
    const oneClick = await fetch(BASE + path, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" });
    assert.equal(oneClick.status, 200, "never a redirect");
    assert.deepEqual(await oneClick.json(), { unsubscribed: true, channel: "email" });
    assert.equal((await fetch(BASE + path, { method: "POST", body: "List-Unsubscribe=One-Click" })).status, 200, "again: still 200");

    const second = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    expectStatus(await setLine(second.id, sku.sock, 1), 200);
    const log = await until(second.id, decided("email"));
    assert.deepEqual(events(log, "skipped").filter((e) => e.channel === "email").map((e) => e.detail), ["unsubscribed"]);
    assert.equal(mailsTo(customer.email).length, 1);
  });

  test("a push service's 410 removes the subscription", async () => {
    const { sku } = await shop();
    const customer = await newCustomer({ consents: { push_reminders: true } });
    const cart = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    const device = await subscribe(cart.id);
    push.answer(device, 410);
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200);
    const log = await until(cart.id, (l) => events(l, "failed").length === 1);
    assert.match(events(log, "failed")[0].detail, /gone \(410\)/);
    assert.equal(push.received(device).length, 1);
    const listed = expectStatus(await call("GET", `/v1/carts/${cart.id}/push-subscriptions`), 200);
    assert.deepEqual(listed.items, [], "the dead subscription is gone");
  });

  test("429 with Retry-After, then success: retried after the wait, sent once", async () => {
    const { sku } = await shop();
    const customer = await newCustomer({ consents: { push_reminders: true } });
    const cart = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    const device = await subscribe(cart.id);
    push.answer(device, [429, { "retry-after": "2" }], [500, {}]);
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200);
    const log = await until(cart.id, (l) => events(l, "sent").length === 1, 30000);
    const attempts = push.received(device);
    assert.deepEqual(attempts.map((a) => a.status), [429, 500, 201]);
    assert.ok(attempts[1].at - attempts[0].at >= 1900, `waited ${attempts[1].at - attempts[0].at} ms, Retry-After asked 2 s`);
    assert.deepEqual(log.entries.filter((e) => e.channel === "push").map((e) => e.event), ["queued", "retrying", "retrying", "sent"]);
  });

  test("a send that keeps failing ends as failed, with its cause", async () => {
    const { sku } = await shop();
    const customer = await newCustomer({ consents: { push_reminders: true } });
    const cart = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    const device = await subscribe(cart.id);
    push.answer(device, 503, 503, 503, 503, 503);
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200);
    const log = await until(cart.id, (l) => events(l, "failed").length === 1, 30000);
    assert.match(events(log, "failed")[0].detail, /gave up after 3 attempts; last: answered 503/);
    assert.equal(push.received(device).length, 3, "REMINDER_MAX_ATTEMPTS=3 in the tests");
  });

  test("a doubled alarm and redelivered messages still send once", async () => {
    const { sku } = await shop();
    const customer = await newCustomer({ consents: { push_reminders: true } });
    const cart = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    const device = await subscribe(cart.id);
    expectStatus(await setLine(cart.id, sku.shoe, 1), 200);
    await sleep(DELAY_MS + 100);
    // The step is due: hand it to the queue three more times as a due step and as a delivery.
    // (The test hooks are not in the OpenAPI document: a raw call.)
    const hook = (kind) => fetch(`${BASE}/v1/test-hooks/reminders/${cart.id}/1?kind=${kind}&copies=3`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}` } });
    const hooks = await Promise.all([hook("step_due"), hook("deliver")]);
    assert.deepEqual(hooks.map((h) => h.status), [202, 202]);
    await until(cart.id, (l) => events(l, "sent").length === 1);
    await sleep(3000);
    const log = await logOf(cart.id);
    assert.equal(events(log, "sent").length, 1, JSON.stringify(log.entries));
    assert.equal(events(log, "queued").length, 1);
    assert.equal(push.received(device).length, 1);
  });

  test("the frequency cap: one reminder per shopper and channel across two carts", async () => {
    const { sku } = await shop();
    const customer = await newCustomer({ consents: { email_reminders: true } });
    const carts = [];
    for (let i = 0; i < 2; i++) carts.push(expectStatus(await newCart({ channel: i ? "app" : "web", customer_id: customer.id }), 201));
    await Promise.all(carts.map((c) => setLine(c.id, sku.shoe, 1)));
    const logs = await Promise.all(carts.map((c) => until(c.id, decided("email"))));
    const outcomes = logs.map((l) => l.entries.find((e) => e.channel === "email" && e.event !== "queued")).map((e) => e.detail ?? e.event).sort();
    assert.deepEqual(outcomes, ["frequency_cap", "sent"]);
    assert.equal(mailsTo(customer.email).length, 1);
  });

  test("a click reaches the cart, and an order from it counts as recovered with its revenue", async () => {
    const { loc, sku } = await shop();
    const customer = await newCustomer({ consents: { email_reminders: true } });
    const cart = expectStatus(await newCart({ channel: "web", customer_id: customer.id }), 201);
    expectStatus(await setLine(cart.id, sku.shoe, 2), 200);
    await until(cart.id, (l) => events(l, "sent").length === 1);
    const tracked = /href="([^"]+\/v1\/reminders\/click\/[^"]+)"/.exec(mailsTo(customer.email)[0].mail.html)[1];
    const before = expectStatus(await call("GET", "/v1/reminders/report"), 200).rows.find((r) => r.step === 2 && r.channel === "email");

    const click = await fetch(BASE + tracked.slice(tracked.indexOf("/v1/")), { redirect: "manual" });
    assert.equal(click.status, 302);
    assert.match(click.headers.get("location"), new RegExp(`/cart/${cart.id}$`));
    const order = await placed({ cart_id: cart.id, fulfilment: { type: "pickup", location_id: loc.shop }, payment: paid("pay_on_pickup") });

    const report = expectStatus(await call("GET", "/v1/reminders/report"), 200);
    const row = report.rows.find((r) => r.step === 2 && r.channel === "email");
    assert.equal(row.clicked, (before?.clicked ?? 0) + 1);
    assert.equal(row.recovered_orders, (before?.recovered_orders ?? 0) + 1);
    const euros = (r) => Number(r?.recovered_revenue.find((m) => m.currency === "EUR")?.amount ?? 0);
    assert.equal((euros(row) - euros(before)).toFixed(2), order.totals.grand_total.amount);
    assert.deepEqual((await logOf(cart.id)).counts, { clicked: 1, failed: 0, sent: 1, shown: 0, skipped: 1 }, "push: no subscription");
  });
});

describe("reminder routes", () => {
  test("subscriptions and consents are reached like the cart; bad input is refused and changes nothing", async () => {
    const origin = "https://shop.example.test";
    const pub = await issueKey({ role: "publishable", channel: "web", allowed_origins: [origin] });
    const created = expectStatus(await call("POST", "/v1/carts", { body: {}, key: pub.secret, headers: { origin } }), 201);
    const asCart = { origin, "x-cart-token": created.cart_token };
    const sub = push.subscribe();
    const register = (body, headers = asCart) => call("POST", `/v1/carts/${created.id}/push-subscriptions`, { body, key: pub.secret, headers });
    expectProblem(await register({ subscription: sub.json }, { origin }), 403, "cart_token_required");
    for (const bad of [
      { subscription: { ...sub.json, endpoint: "http://push.example/1" } },
      { subscription: { ...sub.json, keys: { ...sub.json.keys, p256dh: "AAAA" } } },
      { subscription: { ...sub.json, keys: { ...sub.json.keys, auth: "AAAA" } } },
    ]) {
      expectProblem(await register(bad), 422, "invalid_push_subscription", JSON.stringify(bad));
    }
    expectProblem(await register({ subscription: sub.json, extra: 1 }), 422, "invalid_body");
    assert.deepEqual(expectStatus(await call("GET", `/v1/carts/${created.id}/push-subscriptions`), 200).items, [], "refusals stored nothing");

    const stored = expectStatus(await register({ subscription: sub.json, device: "Firefox" }), 201);
    const again = expectStatus(await register({ subscription: sub.json }), 201);
    assert.equal(again.id, stored.id, "the same endpoint is one subscription");
    const listed = expectStatus(await call("GET", `/v1/carts/${created.id}/push-subscriptions`, { key: pub.secret, headers: asCart }), 200);
    assert.deepEqual(listed.items.map((s) => [s.id, s.device]), [[stored.id, "Firefox"]]);
    expectProblem(await call("DELETE", `/v1/carts/${created.id}/push-subscriptions/psub_nope`, { key: pub.secret, headers: asCart }), 404, "push_subscription_not_found");
    assert.equal((await call("DELETE", `/v1/carts/${created.id}/push-subscriptions/${stored.id}`, { key: pub.secret, headers: asCart })).status, 204);

    const consent = expectStatus(await call("POST", `/v1/carts/${created.id}/consents`, { body: { channel: "push", granted: false }, key: pub.secret, headers: asCart }), 201);
    assert.deepEqual([consent.source, consent.granted], ["web", false]);
    expectProblem(await call("POST", `/v1/carts/${created.id}/consents`, { body: { channel: "sms", granted: true }, key: pub.secret, headers: asCart }), 422, "invalid_body");
    expectProblem(await call("GET", `/v1/carts/${created.id}/reminders`, { key: pub.secret, headers: asCart }), 403, "publishable_key_not_allowed");
    expectProblem(await call("GET", "/v1/reminders/report?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"), 400, "invalid_query");
    expectProblem(await call("GET", "/v1/reminders/click/not-a-token", { key: null }), 400, "invalid_link_token");
    expectProblem(await call("POST", "/v1/reminders/shown/a.b.c", { key: null }), 400, "invalid_link_token");
  });
});
