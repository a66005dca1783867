// Carts from every channel: who may start one for which channel, priced lines whose
// units are held (and show as held in stock lookups) until the hold lapses, a cart
// started in one channel and ordered in another, guests who leave contact details or
// log in, and the refusals (no stock, unknown cart or SKU, a cart already ordered, a
// change to a cart that no longer prices), none of which changes the cart or its holds.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call, expectStatus, product, sleep, stock, uid } from "./api.mjs";
import {
  counts, eur, newCart, newCustomer, paid, pickupAt, placed, placeOrder, setLine, storeKey, storefrontKey, world,
} from "./retail-fixtures.mjs";

const UNKNOWN_CART = `cart_${"0".repeat(32)}`;

describe("starting a cart", () => {
  test("a storefront key's cart is in its own channel, and no other", async () => {
    const app = await storefrontKey("app");
    const cart = await newCart({}, app);
    assert.equal(cart.status, 201);
    assert.match(cart.json.id, /^cart_[0-9a-f]{32}$/);
    assert.equal(cart.json.channel, "app");
    assert.equal(cart.json.location_id, undefined);
    assert.equal(cart.json.status, "open");
    assert.deepEqual(cart.json.lines, []);
    assert.equal(cart.json.subtotal, undefined, "an empty cart has no subtotal");
    assert.equal(cart.json.hold_seconds, 900, "the deployment default (HOLD_MINUTES=15)");

    const sameChannel = await newCart({ channel: "app" }, app);
    assert.equal(sameChannel.status, 201);
    const otherChannel = await newCart({ channel: "web" }, app);
    assert.equal(otherChannel.status, 403);
    assert.equal(otherChannel.json.code, "other_channel");
  });

  test("a store key's cart is a store sale at its own location", async () => {
    const { loc } = await world({ locations: { shop: {}, other: {} } });
    const pos = await storeKey(loc.shop);
    const cart = await newCart({}, pos);
    assert.equal(cart.status, 201);
    assert.equal(cart.json.channel, "store");
    assert.equal(cart.json.location_id, loc.shop);
    const elsewhere = await newCart({ channel: "store", location_id: loc.other }, pos);
    assert.equal(elsewhere.status, 403);
    assert.equal(elsewhere.json.code, "other_location");
  });

  test("back-office must name the channel, and the store for a store sale", async () => {
    const { loc } = await world({ locations: { shop: {} } });
    const unnamed = await newCart({});
    assert.equal(unnamed.status, 422);
    assert.equal(unnamed.json.code, "invalid_channel");
    const storeWithoutLocation = await newCart({ channel: "store" });
    assert.equal(storeWithoutLocation.status, 422);

    const callCentre = await newCart({ channel: "call_centre" });
    assert.equal(callCentre.status, 201);
    assert.equal(callCentre.json.channel, "call_centre");
    const storeSale = await newCart({ channel: "store", location_id: loc.shop });
    assert.equal(storeSale.status, 201);
    assert.deepEqual([storeSale.json.channel, storeSale.json.location_id], ["store", loc.shop]);
  });

  test("a cart may ask for shorter holds, never longer ones", async () => {
    assert.equal((await newCart({ channel: "web", hold_seconds: 60 })).json.hold_seconds, 60);
    assert.equal((await newCart({ channel: "web", hold_seconds: 86_400 })).json.hold_seconds, 900);
  });

  test("an unknown customer is refused", async () => {
    const cart = await newCart({ channel: "web", customer_id: `cus_${"0".repeat(32)}` });
    assert.equal(cart.status, 404);
    assert.equal(cart.json.code, "customer_not_found");
  });
});

describe("cart lines", () => {
  test("lines are priced, and the subtotal follows every change", async () => {
    const { loc, sku } = await world({
      locations: { shop: {} },
      products: { shoe: { price: "19.99" }, socks: { price: "5.50" } },
      stock: { shoe: { shop: 5 }, socks: { shop: 10 } },
    });
    const web = await storefrontKey("web");
    const { json: cart } = await newCart({}, web);

    const one = await setLine(cart.id, sku.shoe, 2, web);
    assert.equal(one.status, 200);
    assert.deepEqual(
      one.json.lines.map(({ sku, name, quantity, unit_price, line_total }) => ({ sku, name, quantity, unit_price, line_total })),
      [{ sku: sku.shoe, name: `Shoe ${sku.shoe}`, quantity: 2, unit_price: eur("19.99"), line_total: eur("39.98") }],
    );
    assert.deepEqual(one.json.subtotal, eur("39.98"));

    const two = await setLine(cart.id, sku.socks, 3, web);
    assert.deepEqual(two.json.lines.map((l) => [l.sku, l.line_total.amount]), [[sku.shoe, "39.98"], [sku.socks, "16.50"]]);
    assert.deepEqual(two.json.subtotal, eur("56.48"));

    const fewer = await setLine(cart.id, sku.shoe, 1, web);
    assert.deepEqual(fewer.json.lines.map((l) => [l.sku, l.quantity]), [[sku.shoe, 1], [sku.socks, 3]], "quantities are absolute");
    assert.deepEqual(fewer.json.subtotal, eur("36.49"));
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 5, held: 1, available: 4, committed: 0 });

    const removed = await call("DELETE", `/v1/carts/${cart.id}/lines/${sku.socks}`, { key: web });
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.json.lines.map((l) => l.sku), [sku.shoe]);
    assert.deepEqual(removed.json.subtotal, eur("19.99"));
    assert.deepEqual(await counts(sku.socks, loc.shop), { on_hand: 10, held: 0, available: 10, committed: 0 }, "hold released");

    const empty = await call("DELETE", `/v1/carts/${cart.id}/lines/${sku.shoe}`, { key: web });
    assert.deepEqual(empty.json.lines, []);
    assert.equal(empty.json.subtotal, undefined);
    const missing = await call("DELETE", `/v1/carts/${cart.id}/lines/${sku.shoe}`, { key: web });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, "cart_line_not_found");
  });

  test("a line's units are held where it says, until when it says, and lookups show them held", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 3 } } });
    const { json: cart } = await newCart({ channel: "web" });
    const before = Date.now();
    const { json: view } = await setLine(cart.id, sku.shoe, 2);
    const [line] = view.lines;
    assert.equal(line.held_at, loc.shop);
    const expiresIn = (Date.parse(line.hold_expires_at) - before) / 1000;
    assert.ok(expiresIn > 890 && expiresIn < 960, `the hold lasts hold_seconds (900), got ${expiresIn}s`);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 3, held: 2, available: 1, committed: 0 });

    const { json: read } = await call("GET", `/v1/carts/${cart.id}`);
    assert.deepEqual(read.lines, view.lines, "reading the cart shows the same holds");
  });

  test("while carts hold half of a SKU's units, new holds last 3 minutes instead of 15 (SCARCE_HOLD_*)", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 4 } } });
    const holdFor = async () => {
      const { json: cart } = await newCart({ channel: "web" });
      const asked = Date.now();
      const { json: view } = await setLine(cart.id, sku.shoe, 1);
      return { cart, seconds: (Date.parse(view.lines[0].hold_expires_at) - asked) / 1000 };
    };
    const first = await holdFor();
    const second = await holdFor();
    for (const { seconds } of [first, second]) assert.ok(seconds > 890 && seconds < 960, `under half held: 15 minutes, got ${seconds}s`);
    const third = await holdFor();
    assert.ok(third.seconds > 170 && third.seconds < 240, `half held: 3 minutes, got ${third.seconds}s`);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 4, held: 3, available: 1, committed: 0 });
    // Once carts let go, holds are long again.
    for (const { cart } of [first, second]) assert.equal((await call("DELETE", `/v1/carts/${cart.id}/lines/${sku.shoe}`)).status, 200);
    const fourth = await holdFor();
    assert.ok(fourth.seconds > 890, `a quarter held: 15 minutes again, got ${fourth.seconds}s`);
  });

  test("holds lapse by themselves", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 4 } } });
    const { json: cart } = await newCart({ channel: "web", hold_seconds: 2 });
    assert.equal(cart.hold_seconds, 2);
    await setLine(cart.id, sku.shoe, 3);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 4, held: 3, available: 1, committed: 0 });
    await sleep(4000);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 4, held: 0, available: 4, committed: 0 });
  });

  test("activity on one line refreshes every line's hold", async () => {
    const { loc, sku } = await world({
      locations: { shop: {} },
      products: { shoe: {}, socks: {} },
      stock: { shoe: { shop: 5 }, socks: { shop: 5 } },
    });
    const { json: cart } = await newCart({ channel: "web", hold_seconds: 3 });
    const { json: first } = await setLine(cart.id, sku.shoe, 2);
    await sleep(2000);
    const { json: view } = await setLine(cart.id, sku.socks, 1);
    const [before, [shoe, socks]] = [Date.parse(first.lines[0].hold_expires_at), view.lines.map((l) => Date.parse(l.hold_expires_at))];
    assert.ok(shoe - before >= 1500, `the older line's hold was renewed: ${first.lines[0].hold_expires_at} -> ${view.lines[0].hold_expires_at}`);
    assert.ok(Math.abs(shoe - socks) < 1000, "both lines now hold until the same time");
    await sleep(2000); // 4 s after the shoes were added: lapsed, had they not been renewed
    assert.equal((await counts(sku.shoe, loc.shop)).held, 2);
  });

  test("more than is available is refused with where it is short, and the line stays as it was", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 3 } } });
    const { json: cart } = await newCart({ channel: "web" });
    await setLine(cart.id, sku.shoe, 2);
    const tooMany = await setLine(cart.id, sku.shoe, 4);
    assert.equal(tooMany.status, 409);
    assert.equal(tooMany.json.code, "insufficient_stock");
    assert.equal(tooMany.json.sku, sku.shoe);
    const atShop = tooMany.json.short.find((s) => s.location_id === loc.shop);
    // The line may grow to 3 here (2 of the 3 are already its own), so 3 is what is available to it.
    assert.deepEqual(atShop, { location_id: loc.shop, requested: 4, available: 3 });

    const { json: after } = await call("GET", `/v1/carts/${cart.id}`);
    assert.deepEqual(after.lines.map((l) => [l.sku, l.quantity]), [[sku.shoe, 2]]);
    assert.equal((await counts(sku.shoe, loc.shop)).held, 2);
  });

  test("lines added at the same time are all kept, each held", async () => {
    const products = Object.fromEntries(["a", "b", "c", "d", "e"].map((name) => [name, {}]));
    const { loc, sku } = await world({
      locations: { shop: {} },
      products,
      stock: Object.fromEntries(Object.keys(products).map((name) => [name, { shop: 2 }])),
    });
    const { json: cart } = await newCart({ channel: "web" });
    const answers = await Promise.all(Object.values(sku).map((line) => setLine(cart.id, line, 1)));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200]);
    const { json: read } = await call("GET", `/v1/carts/${cart.id}`);
    assert.deepEqual(read.lines.map((l) => l.sku).sort(), Object.values(sku).sort());
    assert.ok(read.lines.every((l) => l.held_at === loc.shop));
    for (const line of Object.values(sku)) assert.equal((await counts(line, loc.shop)).held, 1);
  });

  test("a store cart holds only at its own store", async () => {
    const { loc, sku } = await world({
      locations: { shop: {}, bigger: {} },
      products: { shoe: {} },
      stock: { shoe: { shop: 1, bigger: 10 } },
    });
    const pos = await storeKey(loc.shop);
    const { json: cart } = await newCart({}, pos);
    const refused = await setLine(cart.id, sku.shoe, 2, pos);
    assert.equal(refused.status, 409);
    assert.deepEqual(refused.json.short, [{ location_id: loc.shop, requested: 2, available: 1 }]);
    const held = await setLine(cart.id, sku.shoe, 1, pos);
    assert.equal(held.json.lines[0].held_at, loc.shop);
    assert.equal((await counts(sku.shoe, loc.bigger)).held, 0);
  });

  test("unknown carts and SKUs are 404", async () => {
    const { sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 1 } } });
    const noCart = await call("GET", `/v1/carts/${UNKNOWN_CART}`);
    assert.equal(noCart.status, 404);
    assert.equal(noCart.json.code, "cart_not_found");
    const lineOfNoCart = await setLine(UNKNOWN_CART, sku.shoe, 1);
    assert.equal(lineOfNoCart.status, 404);
    assert.equal(lineOfNoCart.json.code, "cart_not_found");

    const { json: cart } = await newCart({ channel: "web" });
    const noSku = await setLine(cart.id, `NOPE-${uid()}`, 1);
    assert.equal(noSku.status, 404);
    assert.equal(noSku.json.code, "sku_not_found");
  });
});

describe("carts across channels and people", () => {
  test("a cart started in the app is read and ordered at the store", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 3 } } });
    const app = await storefrontKey("app");
    const pos = await storeKey(loc.shop);
    const { json: cart } = await newCart({ contact: { email: `walk-in-${uid()}@example.com` } }, app);
    await setLine(cart.id, sku.shoe, 2, app);

    const seenAtStore = await call("GET", `/v1/carts/${cart.id}`, { key: pos });
    assert.equal(seenAtStore.status, 200);
    assert.deepEqual(seenAtStore.json.lines.map((l) => [l.sku, l.quantity, l.held_at]), [[sku.shoe, 2, loc.shop]]);

    const order = await placed({ cart_id: cart.id, fulfilment: pickupAt(loc.shop), payment: paid("pay_on_pickup") }, { key: pos });
    assert.equal(order.channel, "app", "the order keeps the channel the cart was started in");
    assert.equal(order.cart_id, cart.id);
    assert.deepEqual(order.contact, cart.contact);
    assert.deepEqual(order.allocations, [{ sku: sku.shoe, quantity: 2, location_id: loc.shop }]);
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 1, held: 0, available: 1, committed: 2 }, "the hold became the order's");

    const { json: ordered } = await call("GET", `/v1/carts/${cart.id}`, { key: app });
    assert.equal(ordered.status, "ordered");
    assert.equal(ordered.order_id, order.id);
  });

  test("a guest leaves an email, then logs in", async () => {
    const customer = await newCustomer();
    const web = await storefrontKey("web");
    const { json: cart } = await newCart({}, web);
    assert.deepEqual(cart.contact, {});
    assert.equal(cart.customer_id, undefined);

    const contact = { email: `guest-${uid()}@example.com`, phone: "+31201234567" };
    const withContact = await call("PATCH", `/v1/carts/${cart.id}`, { key: web, body: { contact } });
    assert.equal(withContact.status, 200);
    assert.deepEqual(withContact.json.contact, contact);

    const loggedIn = await call("PATCH", `/v1/carts/${cart.id}`, { key: web, body: { customer_id: customer.id } });
    assert.equal(loggedIn.status, 200);
    assert.equal(loggedIn.json.customer_id, customer.id);
    assert.deepEqual(loggedIn.json.contact, contact, "logging in keeps the contact details");
    assert.equal((await call("GET", `/v1/carts/${cart.id}`)).json.customer_id, customer.id);

    const stranger = await call("PATCH", `/v1/carts/${cart.id}`, { key: web, body: { customer_id: `cus_${"0".repeat(32)}` } });
    assert.equal(stranger.status, 404);
    assert.equal(stranger.json.code, "customer_not_found");
  });

  test("an ordered cart is closed", async () => {
    const { loc, sku } = await world({
      locations: { shop: {} },
      products: { shoe: {}, socks: {} },
      stock: { shoe: { shop: 5 }, socks: { shop: 5 } },
    });
    const { json: cart } = await newCart({ channel: "web" });
    await setLine(cart.id, sku.shoe, 1);
    await placed({ cart_id: cart.id, fulfilment: pickupAt(loc.shop), payment: paid("prepaid") });

    const refusals = {
      "a new line": await setLine(cart.id, sku.socks, 1),
      "a changed line": await setLine(cart.id, sku.shoe, 2),
      "a removed line": await call("DELETE", `/v1/carts/${cart.id}/lines/${sku.shoe}`),
      "new contact details": await call("PATCH", `/v1/carts/${cart.id}`, { body: { contact: { email: `late-${uid()}@example.com` } } }),
      "a second order": await placeOrder({ cart_id: cart.id, fulfilment: pickupAt(loc.shop), payment: paid("prepaid") }),
    };
    for (const [what, answer] of Object.entries(refusals)) {
      assert.deepEqual([answer.status, answer.json.code], [409, "cart_closed"], what);
    }
    assert.deepEqual(await counts(sku.shoe, loc.shop), { on_hand: 4, held: 0, available: 4, committed: 1 }, "ordered once");
    assert.equal((await counts(sku.socks, loc.shop)).held, 0);
  });
});

describe("refused cart changes", () => {
  test("a cart that no longer prices refuses changes that leave it so, and they change neither the cart nor its holds", async () => {
    const { loc, sku } = await world({
      locations: { shop: {} },
      products: { shoe: { price: "19.99" }, socks: { price: "5.50" }, laces: { price: "2.00" } },
      stock: { shoe: { shop: 5 }, socks: { shop: 5 }, laces: { shop: 5 } },
    });
    const { json: cart } = await newCart({ channel: "web" });
    for (const line of [sku.shoe, sku.socks, sku.laces]) assert.equal((await setLine(cart.id, line, 1)).status, 200);
    const priceLaces = (currency) => product(sku.laces, { price: "2.00", currency });
    const held = async () => ({
      shoe: (await counts(sku.shoe, loc.shop)).held,
      socks: (await counts(sku.socks, loc.shop)).held,
      laces: (await counts(sku.laces, loc.shop)).held,
    });
    // The cart as it reads while the laces are priced in euros again.
    const inEuros = async () => {
      await priceLaces("EUR");
      const read = await call("GET", `/v1/carts/${cart.id}`);
      await priceLaces("USD");
      assert.equal(read.status, 200);
      return read.json;
    };
    const before = (await call("GET", `/v1/carts/${cart.id}`)).json;
    assert.deepEqual(await held(), { shoe: 1, socks: 1, laces: 1 });

    await priceLaces("USD");
    const read = await call("GET", `/v1/carts/${cart.id}`);
    assert.deepEqual([read.status, read.json.code, read.json.currencies], [422, "mixed_currencies", ["EUR", "USD"]]);

    const refusals = {
      "removing a euro line": () => call("DELETE", `/v1/carts/${cart.id}/lines/${sku.shoe}`),
      "leaving contact details": () => call("PATCH", `/v1/carts/${cart.id}`, { body: { contact: { email: `mixed-${uid()}@example.com` } } }),
      "changing a quantity": () => setLine(cart.id, sku.shoe, 3),
    };
    for (const [what, send] of Object.entries(refusals)) {
      const answer = await send();
      assert.deepEqual([answer.status, answer.json.code], [422, "mixed_currencies"], what);
      assert.deepEqual(await held(), { shoe: 1, socks: 1, laces: 1 }, `${what}: the holds are as they were`);
      assert.deepEqual(await inEuros(), before, `${what}: the cart is as it was`);
    }

    const fixed = await call("DELETE", `/v1/carts/${cart.id}/lines/${sku.laces}`);
    assert.equal(fixed.status, 200, "removing the dollar line makes the cart price again");
    assert.deepEqual(fixed.json.lines.map((l) => [l.sku, l.quantity]), [[sku.shoe, 1], [sku.socks, 1]]);
    assert.deepEqual(fixed.json.subtotal, eur("25.49"));
    assert.deepEqual(await held(), { shoe: 1, socks: 1, laces: 0 });
  });

  test("a line refused for want of stock puts back the holds the request refreshed", async () => {
    const { loc, sku } = await world({
      locations: { shop: {} },
      products: { shoe: {}, socks: {} },
      stock: { shoe: { shop: 3 }, socks: { shop: 1 } },
    });
    const { json: cart } = await newCart({ channel: "web", hold_seconds: 4 });
    const added = Date.now();
    await setLine(cart.id, sku.shoe, 1);
    await sleep(2500); // past half the shoes' hold: activity on the cart would refresh it
    const refused = await setLine(cart.id, sku.socks, 2);
    assert.deepEqual([refused.status, refused.json.code], [409, "insufficient_stock"]);
    assert.equal((await counts(sku.socks, loc.shop)).held, 0);
    assert.equal((await counts(sku.shoe, loc.shop)).held, 1);
    await sleep(added + 5500 - Date.now()); // the shoes' own hold has lapsed; a refreshed one would not have
    assert.equal((await counts(sku.shoe, loc.shop)).held, 0, "the refused request did not keep the shoes' hold alive");
  });

  test("a line beyond the most a cart may have is refused before its units are held", async () => {
    const { loc } = await world({ locations: { shop: {} } });
    const run = uid();
    const skus = Array.from({ length: 101 }, (_, i) => `MANY-${i}-${run}`);
    for (let i = 0; i < skus.length; i += 20) {
      await Promise.all(skus.slice(i, i + 20).map(async (line) => {
        await product(line);
        await stock(line, loc.shop, 1);
      }));
    }
    const { json: cart } = await newCart({ channel: "web" });
    const [last, ...first] = [skus.at(-1), ...skus.slice(0, 100)];
    for (let i = 0; i < first.length; i += 10) {
      const answers = await Promise.all(first.slice(i, i + 10).map((line) => setLine(cart.id, line, 1)));
      assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers.find((a) => a.status !== 200)?.json));
    }
    const refused = await setLine(cart.id, last, 1);
    assert.deepEqual([refused.status, refused.json.code], [422, "too_many_lines"]);
    assert.equal((await counts(last, loc.shop)).held, 0, "no hold is left behind");
    const { json: read } = await call("GET", `/v1/carts/${cart.id}`);
    assert.equal(read.lines.length, 100);
  });

  test("more units of one SKU than a cart may hold are refused before any is held (hoarding)", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 50 } } });
    const web = await storefrontKey("web");
    const { json: cart } = await newCart({}, web);
    expectStatus(await setLine(cart.id, sku.shoe, 10, web), 200);
    const hoard = await setLine(cart.id, sku.shoe, 11, web);
    assert.deepEqual([hoard.status, hoard.json.code, hoard.json.max, hoard.json.sku], [422, "too_many_units", 10, sku.shoe]);
    assert.equal((await counts(sku.shoe, loc.shop)).held, 10, "the line keeps its 10 units held, no more");
    const { json: read } = await call("GET", `/v1/carts/${cart.id}`);
    assert.deepEqual(read.lines.map((l) => l.quantity), [10]);
  });
});
