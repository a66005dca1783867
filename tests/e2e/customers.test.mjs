// Customers: one profile per email across every channel, kept by back-office and
// storefronts (not stores); guests who order with a known email are linked to it; the
// timeline shows a customer's carts and orders from every channel, newest first.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { call, uid } from "./api.mjs";
import {
  newCart, newCustomer, paid, pickupAt, placed, setLine, storefrontKey, storeKey, inStore, world,
} from "./retail-fixtures.mjs";

const UNKNOWN_CUSTOMER = `cus_${"0".repeat(32)}`;

describe("customer profiles", () => {
  test("a storefront creates a customer; the email is kept lower-case and is one customer's only", async () => {
    const app = await storefrontKey("app");
    const email = `Bea.Jansen-${uid()}@Example.com`;
    const created = await call("POST", "/v1/customers", {
      key: app,
      body: { name: "Bea Jansen", email, phone: "+31612345678", consents: { email_reminders: true, push_reminders: false } },
    });
    assert.equal(created.status, 201);
    assert.match(created.json.id, /^cus_[0-9a-f]{32}$/);
    assert.equal(created.json.email, email.toLowerCase());
    assert.equal(created.json.phone, "+31612345678");
    assert.deepEqual(created.json.consents, { email_reminders: true, push_reminders: false });

    const read = await call("GET", `/v1/customers/${created.json.id}`, { key: app });
    assert.deepEqual(read.json, created.json);
    const again = await call("POST", "/v1/customers", { body: { name: "Someone else", email: email.toUpperCase() } });
    assert.deepEqual([again.status, again.json.code], [409, "customer_email_taken"]);
  });

  test("a customer's profile is replaced, but not with another customer's email", async () => {
    const ann = await newCustomer();
    const bob = await newCustomer({ name: "Bob" });
    const newEmail = `ann-new-${uid()}@example.com`;
    const replaced = await call("PUT", `/v1/customers/${ann.id}`, {
      body: { name: "Ann Bakker", email: newEmail, consents: { email_reminders: false, push_reminders: true } },
    });
    assert.equal(replaced.status, 200);
    assert.deepEqual([replaced.json.id, replaced.json.name, replaced.json.email], [ann.id, "Ann Bakker", newEmail]);
    assert.equal(replaced.json.created_at, ann.created_at);
    assert.deepEqual(replaced.json.consents, { email_reminders: false, push_reminders: true });

    const taken = await call("PUT", `/v1/customers/${ann.id}`, { body: { name: "Ann", email: bob.email } });
    assert.deepEqual([taken.status, taken.json.code], [409, "customer_email_taken"]);
    assert.equal((await call("GET", `/v1/customers/${ann.id}`)).json.email, newEmail);
  });

  test("bad contact details, unknown customers and store keys are refused", async () => {
    const badEmail = await call("POST", "/v1/customers", { body: { name: "X", email: "not-an-email" } });
    assert.deepEqual([badEmail.status, badEmail.json.code], [422, "invalid_body"]);
    const badPhone = await call("POST", "/v1/customers", { body: { name: "X", email: `x-${uid()}@example.com`, phone: "0612345678" } });
    assert.deepEqual([badPhone.status, badPhone.json.code], [422, "invalid_body"]);

    const unknown = await call("GET", `/v1/customers/${UNKNOWN_CUSTOMER}`);
    assert.deepEqual([unknown.status, unknown.json.code], [404, "customer_not_found"]);
    const unknownTimeline = await call("GET", `/v1/customers/${UNKNOWN_CUSTOMER}/timeline`);
    assert.deepEqual([unknownTimeline.status, unknownTimeline.json.code], [404, "customer_not_found"]);

    const { loc } = await world({ locations: { shop: {} } });
    const pos = await storeKey(loc.shop);
    const byStore = await call("POST", "/v1/customers", { key: pos, body: { name: "X", email: `x-${uid()}@example.com` } });
    assert.deepEqual([byStore.status, byStore.json.code], [403, "customers_not_for_stores"]);
  });
});

describe("one customer across channels", () => {
  test("a guest order with a known email belongs to that customer", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 5 } } });
    const customer = await newCustomer();
    const order = (contact) => placed({
      channel: "messenger", contact, lines: [{ sku: sku.shoe, quantity: 1 }], fulfilment: pickupAt(loc.shop), payment: paid("prepaid"),
    });

    const known = await order({ email: customer.email.toUpperCase() });
    assert.equal(known.customer_id, customer.id, "emails match whatever their case");
    assert.equal(known.contact.email, customer.email);
    const stranger = await order({ email: `stranger-${uid()}@example.com` });
    assert.equal(stranger.customer_id, undefined);
    const phoneOnly = await order({ phone: "+31201234567" });
    assert.equal(phoneOnly.customer_id, undefined);

    const listed = await call("GET", `/v1/orders?customer_id=${customer.id}`);
    assert.deepEqual(listed.json.items.map((o) => o.id), [known.id]);
  });

  test("the timeline shows carts and orders from every channel, newest first", async () => {
    const { loc, sku } = await world({ locations: { shop: {} }, products: { shoe: {} }, stock: { shoe: { shop: 10 } } });
    const customer = await newCustomer();
    const app = await storefrontKey("app");
    const web = await storefrontKey("web");
    const pos = await storeKey(loc.shop);

    const appCart = (await newCart({ customer_id: customer.id }, app)).json;
    await setLine(appCart.id, sku.shoe, 1, app);
    const webCart = (await newCart({ contact: { email: `guest-${uid()}@example.com` } }, web)).json;
    await call("PATCH", `/v1/carts/${webCart.id}`, { key: web, body: { customer_id: customer.id } });
    await newCart({ channel: "web" }); // someone else's cart

    const fromAppCart = await placed({ cart_id: appCart.id, fulfilment: pickupAt(loc.shop), payment: paid("pay_on_pickup") }, { key: pos });
    const atTill = await placed(
      { customer_id: customer.id, lines: [{ sku: sku.shoe, quantity: 1 }], fulfilment: inStore(), payment: paid("paid_in_store") },
      { key: pos },
    );
    const byPhone = await placed({
      channel: "call_centre", contact: { email: customer.email }, lines: [{ sku: sku.shoe, quantity: 2 }],
      fulfilment: pickupAt(loc.shop), payment: paid("prepaid"),
    });

    const timeline = await call("GET", `/v1/customers/${customer.id}/timeline`, { key: web });
    assert.equal(timeline.status, 200);
    assert.equal(timeline.json.customer_id, customer.id);
    assert.deepEqual(timeline.json.items.map(({ kind, id, channel, status }) => ({ kind, id, channel, status })), [
      { kind: "order", id: byPhone.id, channel: "call_centre", status: "placed" },
      { kind: "order", id: atTill.id, channel: "store", status: "collected" },
      { kind: "order", id: fromAppCart.id, channel: "app", status: "placed" },
      { kind: "cart", id: webCart.id, channel: "web", status: null },
      { kind: "cart", id: appCart.id, channel: "app", status: null },
    ]);
    const times = timeline.json.items.map((e) => Date.parse(e.at));
    assert.deepEqual(times, [...times].sort((a, b) => b - a), "newest first");
  });
});
