// The storefront side of cart reminders in headless Chromium: the repo's service worker
// and subscribe snippet (storefront/), served from a shop origin of their own. The
// snippet registers the service worker and fetches the VAPID key; Chromium here cannot
// reach a real push service, so `pushManager.subscribe` is tried but its outcome is only
// reported, and the subscription the worker pushes to is the stand-in push service's,
// registered by the snippet's `registerSubscription` from the page (CORS, publishable
// key, cart token). The push the worker sent (decrypted by the stand-in) is handed to the
// service worker with the DevTools Protocol's `ServiceWorker.deliverPushMessage`; it must
// show the notification and report "shown"; a `notificationclick` (dispatched in the
// service worker: no OS notification can be clicked headless) must take the shop's tab
// through the tracked link to the cart.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { BASE, call, expectStatus, issueKey, sleep } from "./api.mjs";
import { world } from "./retail-fixtures.mjs";
import { pushService } from "./reminder-standins.mjs";

const PUSH_PORT = Number(process.env.OMNIEDGE_PUSH_PORT ?? 8821);
const SHOP_PORT = Number(process.env.OMNIEDGE_STOREFRONT_PORT ?? 8823);
const SHOP = `http://127.0.0.1:${SHOP_PORT}`;
const STOREFRONT = new URL("../../storefront/", import.meta.url);

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body>
<script type="module">
  import * as reminders from "/omniedge-reminders.js";
  window.reminders = reminders;
  window.ready = true;
</script></body></html>`;

/** The shop: the page, the repo's storefront scripts, and a cart page. */
async function shopServer() {
  const server = createServer(async (req, res) => {
    const path = req.url.split("?")[0];
    if (path === "/omniedge-sw.js" || path === "/omniedge-reminders.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      return res.end(await readFile(new URL(path.slice(1), STOREFRONT)));
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(path.startsWith("/cart/") ? `<!doctype html><title>cart ${path.slice(6)}</title>` : PAGE);
  });
  await new Promise((resolve) => server.listen(SHOP_PORT, "127.0.0.1", resolve));
  return server;
}

const logOf = async (cartId) => expectStatus(await call("GET", `/v1/carts/${cartId}/reminders`), 200);

async function until(what, check, ms = 20000) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    const value = await check();
    if (value) return value;
    await sleep(250);
  }
  assert.fail(`timed out waiting for ${typeof what === "function" ? what() : what}`);
}

describe("the storefront's service worker and subscribe snippet in Chromium", () => {
  let browser, shop, push, profile;
  before(async () => {
    const key = expectStatus(await call("GET", "/v1/reminders/vapid-public-key"), 200).public_key;
    push = await pushService(PUSH_PORT, key);
    shop = await shopServer();
    profile = await mkdtemp(join(tmpdir(), "omniedge-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });
  after(async () => {
    await browser?.close();
    shop?.close();
    await push?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  test("a reminder pushed by the worker is shown, reported and clicked through to the cart", async () => {
    const { sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const pub = await issueKey({ role: "publishable", channel: "web", allowed_origins: [SHOP] });
    const cart = expectStatus(await call("POST", "/v1/carts", { body: {}, key: pub.secret, headers: { origin: SHOP } }), 201);
    await browser.grantPermissions(["notifications"], { origin: SHOP });
    const page = await browser.newPage();
    await page.goto(`${SHOP}/`);
    await page.waitForFunction(() => window.ready === true);
    const credentials = { api: BASE, publishableKey: pub.secret, cartId: cart.id, cartToken: cart.cart_token };

    // The snippet as a shop calls it: service worker registered, VAPID key fetched, then
    // pushManager.subscribe, which needs a real push service (its outcome is reported).
    const enabled = await page.evaluate(async (c) => {
      const timeout = new Promise((resolve) => setTimeout(() => resolve({ timedOut: true }), 8000));
      const outcome = await Promise.race([window.reminders.enableCartReminders({ ...c, device: "chromium" }).catch((e) => ({ error: `${e.name}: ${e.message}` })), timeout]);
      const registration = await navigator.serviceWorker.getRegistration();
      return { outcome, registered: Boolean(registration?.active), permission: Notification.permission };
    }, credentials);
    assert.equal(enabled.registered, true, JSON.stringify(enabled));
    assert.equal(enabled.permission, "granted");
    console.log(`# pushManager.subscribe without a push service: ${JSON.stringify(enabled.outcome)}`);
    await page.reload();
    await page.waitForFunction(() => window.ready === true && navigator.serviceWorker.controller !== null);

    // The page registers the stand-in's subscription through the snippet (CORS, cart token).
    const device = push.subscribe();
    const stored = await page.evaluate(async ({ c, subscription }) => window.reminders.registerSubscription({ ...c, subscription, device: "chromium" }), { c: credentials, subscription: device.json });
    assert.equal(stored.endpoint, device.json.endpoint);
    const listed = expectStatus(await call("GET", `/v1/carts/${cart.id}/push-subscriptions`), 200).items;
    assert.ok(listed.some((s) => s.id === stored.id && s.device === "chromium"));

    // The cart goes quiet; the worker pushes; the stand-in decrypts what it sent.
    expectStatus(await call("PUT", `/v1/carts/${cart.id}/lines/${sku.shoe}`, { body: { quantity: 1 }, key: pub.secret, headers: { origin: SHOP, "x-cart-token": cart.cart_token } }), 200);
    const [received] = await until("the push", () => push.received(device.id).filter((r) => r.status === 201).length && push.received(device.id));
    const reminder = received.payload;

    // Deliver exactly that payload to the service worker.
    const cdp = await browser.newCDPSession(page);
    const registrations = [];
    const versions = [];
    cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations: r }) => registrations.push(...r));
    cdp.on("ServiceWorker.workerVersionUpdated", ({ versions: v }) => versions.push(...v));
    await cdp.send("ServiceWorker.enable");
    const registration = await until("the registration", () => registrations.find((r) => r.scopeURL === `${SHOP}/` && !r.isDeleted));
    await until("a running, activated service worker", () =>
      versions.some((v) => v.registrationId === registration.registrationId && v.runningStatus === "running" && v.status === "activated"),
    );
    // Playwright attaches to the running service worker here (delivering to a worker it has
    // not attached to was seen to show nothing in this headless Chromium).
    const [worker] = browser.serviceWorkers();
    assert.equal(await worker.evaluate(() => self.registration.scope), `${SHOP}/`);
    const swErrors = [];
    cdp.on("ServiceWorker.workerErrorReported", ({ errorMessage }) => swErrors.push(errorMessage.errorMessage));
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: SHOP, registrationId: registration.registrationId, data: JSON.stringify(reminder) });
    await until("the shown report", async () => (await logOf(cart.id)).counts.shown === 1);
    const shown = await until(
      () => `the notification (service worker errors: ${JSON.stringify(swErrors)}; versions: ${JSON.stringify(versions.slice(-1))})`,
      () => worker.evaluate(async () => (await self.registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url }))).then((n) => n.length && n),
    );
    assert.deepEqual(shown, [{ title: reminder.title, body: reminder.body, tag: reminder.tag, url: reminder.url }]);
    assert.match(shown[0].body, /Shoe .* is waiting in your cart\. Complete your order →$/);

    // A click in the service worker takes the shop's tab through the tracked link to the cart.
    await worker.evaluate(async () => {
      const [notification] = await self.registration.getNotifications();
      self.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
    });
    await page.waitForURL(`${SHOP}/cart/${cart.id}`, { timeout: 15000 });
    const log = await logOf(cart.id);
    assert.equal(log.counts.clicked, 1);
    assert.equal(log.counts.sent, 1);
  });
});
