// A real storefront page in headless Chromium (Debian's chromium, driven by
// playwright-core), served from an origin of its own: with a publishable key it looks
// up stock, starts a cart and adds a line, across origins, through CORS. Pages from
// origins the key does not allow are blocked by the browser itself: one whose origin
// no live key allows (the preflight is refused), one allowed only by another key (the
// request is refused without CORS headers).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { chromium } from "playwright-core";
import { BASE, call, expectStatus, fresh, issueKey, location, product, stock } from "./api.mjs";

/** The storefront page: reads its settings from the query, calls the API, shows the outcome. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>shop</title></head><body>
<pre id="out">working</pre>
<script type="module">
  const settings = new URLSearchParams(location.search);
  const [api, key, sku] = ["api", "key", "sku"].map((name) => settings.get(name));
  const call = async (method, path, body, headers = {}) => {
    const response = await fetch(api + path, {
      method,
      headers: { authorization: "Bearer " + key, ...(body ? { "content-type": "application/json" } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, json: await response.json() };
  };
  try {
    const stock = await call("GET", "/v1/stock/" + sku);
    const cart = await call("POST", "/v1/carts", {});
    const line = await call("PUT", "/v1/carts/" + cart.json.id + "/lines/" + sku, { quantity: 1 }, { "x-cart-token": cart.json.cart_token });
    window.outcome = { stock, cart, line };
  } catch (error) {
    window.outcome = { blocked: error.name + ": " + error.message };
  }
  document.getElementById("out").textContent = JSON.stringify(window.outcome);
</script></body></html>`;

/** A static server for the page on a port of its own (so an origin of its own). */
async function pageServer() {
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(PAGE);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

describe("a storefront page in a real browser", () => {
  let browser;
  const servers = [];
  before(async () => {
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  });
  after(async () => {
    await browser?.close();
    for (const { server } of servers) server.close();
  });

  async function visit(origin, key, sku) {
    const page = await browser.newPage();
    const query = new URLSearchParams({ api: BASE, key, sku });
    await page.goto(`${origin}/shop.html?${query}`);
    await page.waitForFunction(() => window.outcome !== undefined, null, { timeout: 20_000 });
    const outcome = await page.evaluate(() => window.outcome);
    await page.close();
    return outcome;
  }

  test("looks up stock, starts a cart and adds a line from its own origin; other origins are blocked", async () => {
    const [shop, stranger, neighbour] = [await pageServer(), await pageServer(), await pageServer()];
    servers.push(shop, stranger, neighbour);
    const [store, sku] = [fresh("br-store"), fresh("BR")];
    await location(store);
    await product(sku);
    await stock(sku, store, 7);
    const key = (await issueKey({ role: "publishable", channel: "web", allowed_origins: [shop.origin] })).secret;
    await issueKey({ role: "publishable", channel: "web", allowed_origins: [neighbour.origin] });

    const outcome = await visit(shop.origin, key, sku);
    assert.equal(outcome.blocked, undefined, JSON.stringify(outcome));
    assert.equal(outcome.stock.status, 200);
    assert.equal(outcome.stock.json.locations.find((l) => l.location_id === store).available, 7);
    assert.equal(outcome.cart.status, 201);
    assert.equal(outcome.line.status, 200);
    assert.deepEqual(outcome.line.json.lines.map((l) => [l.sku, l.quantity, l.held_at]), [[sku, 1, store]]);
    const cart = expectStatus(await call("GET", `/v1/carts/${outcome.cart.json.id}`), 200, "the cart the page made");
    assert.equal(cart.channel, "web");

    for (const page of [stranger, neighbour]) {
      const refused = await visit(page.origin, key, sku);
      assert.match(refused.blocked ?? "", /TypeError/, `${page.origin}: ${JSON.stringify(refused)}`);
    }
  });
});
