// Who may do what: every route but health and the OpenAPI document needs a key; keys are
// issued (secret shown once) and revoked by back-office keys; a store key adjusts and
// sees stock history only at its own location; a storefront key reads stock and writes
// nothing; only back-office keys maintain locations, products and keys.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  adjust, allAdjustments, delta, expectProblem, expectStatus, fresh, issueKey, levelAt, location, locationDraft, product,
  productDraft, call, stock, uid,
} from "./api.mjs";

/** Two stores and a SKU stocked at both. */
async function twoStores(units = 5) {
  const [own, other] = [fresh("own"), fresh("other")];
  const sku = fresh("ACC");
  await location(own);
  await location(other);
  await product(sku);
  await stock(sku, own, units);
  await stock(sku, other, units);
  return { own, other, sku };
}

describe("authentication", () => {
  test("no, malformed, or unknown credentials are 401 unauthorized", async () => {
    const sku = fresh("AUTH");
    await product(sku);
    const requests = [
      ["GET", "/v1/locations"],
      ["GET", `/v1/stock/${sku}`],
      ["POST", "/v1/stock/lookup", { body: { skus: [sku] } }],
      ["POST", `/v1/stock/${sku}/adjustments`, { body: delta("x", 1), headers: { "idempotency-key": uid() } }],
      ["GET", "/v1/api-keys"],
      ["PUT", `/v1/locations/${fresh("anon")}`, { body: locationDraft() }],
    ];
    const credentials = [
      ["no Authorization", { key: null }],
      ["an unknown key", { key: `oe_${"0".repeat(64)}` }],
      ["a made-up key", { key: "let-me-in" }],
      ["Basic credentials", { key: null, headers: { authorization: "Basic YWRtaW46YWRtaW4=" } }],
      ["Bearer without a key", { key: null, headers: { authorization: "Bearer " } }],
    ];
    for (const [method, path, options = {}] of requests) {
      for (const [name, credential] of credentials) {
        const answer = await call(method, path, { ...options, ...credential, headers: { ...options.headers, ...credential.headers } });
        expectProblem(answer, 401, "unauthorized", `${method} ${path} with ${name}`);
      }
    }
    expectProblem(await call("GET", `/v1/locations/${fresh("anon")}`, { key: null }), 401, "unauthorized", "nothing about the resource leaks");
  });

  test("health and the OpenAPI document need no key", async () => {
    assert.deepEqual(expectStatus(await call("GET", "/v1/health", { key: null }), 200), { status: "ok" });
    assert.equal(expectStatus(await call("GET", "/v1/openapi.json", { key: null }), 200).openapi.slice(0, 3), "3.1");
  });
});

describe("API keys", () => {
  test("issued with the secret shown once, listed without it, revoked to 401", async () => {
    const store = fresh("keyed");
    await location(store);
    const label = `POS ${uid()}`;
    const issued = await call("POST", "/v1/api-keys", { body: { role: "store", label, location_id: store } });
    expectStatus(issued, 201);
    assert.match(issued.json.id, /^key_[0-9a-f]{32}$/);
    assert.match(issued.json.secret, /^oe_[0-9a-f]{64}$/);
    assert.deepEqual([issued.json.role, issued.json.label, issued.json.location_id, issued.json.channel], ["store", label, store, undefined]);

    const listed = expectStatus(await call("GET", "/v1/api-keys"), 200).items.find((k) => k.id === issued.json.id);
    assert.ok(listed, "the new key is listed");
    assert.deepEqual(listed, { id: issued.json.id, role: "store", label, location_id: store, created_at: issued.json.created_at, revoked_at: null });
    expectStatus(await call("GET", `/v1/locations/${store}`, { key: issued.json.secret }), 200, "the key works");

    assert.equal((await call("DELETE", `/v1/api-keys/${issued.json.id}`)).status, 204);
    expectProblem(await call("GET", `/v1/locations/${store}`, { key: issued.json.secret }), 401, "unauthorized", "revoked");
    expectProblem(await adjust("ANY", delta(store, 1), { key: issued.json.secret }), 401, "unauthorized", "revoked");
    const revoked = expectStatus(await call("GET", "/v1/api-keys"), 200).items.find((k) => k.id === issued.json.id);
    assert.ok(revoked.revoked_at && Date.parse(revoked.revoked_at) >= Date.parse(revoked.created_at), "listed as revoked");
  });

  test("revoking an unknown key is 404 api_key_not_found", async () => {
    expectProblem(await call("DELETE", `/v1/api-keys/key_${"0".repeat(32)}`), 404, "api_key_not_found");
  });

  test("an issued admin key is a back-office key, recorded by its own id", async () => {
    const admin = await issueKey({ role: "admin" });
    assert.deepEqual([admin.role, admin.location_id, admin.channel], ["admin", undefined, undefined]);
    const store = fresh("by-admin");
    expectStatus(await call("PUT", `/v1/locations/${store}`, { key: admin.secret, body: locationDraft() }), 201);
    const sku = fresh("BY-ADMIN");
    expectStatus(await call("PUT", `/v1/products/${sku}`, { key: admin.secret, body: productDraft() }), 201);
    const made = expectStatus(await adjust(sku, { location_id: store, kind: "set", quantity: 4, reason: "received" }, { key: admin.secret }), 201);
    assert.equal(made.adjustment.recorded_by, admin.id);
    expectStatus(await call("GET", "/v1/api-keys", { key: admin.secret }), 200);
  });

  test("grants that cannot be honoured are refused and issue nothing", async () => {
    const label = `refused ${uid()}`;
    const cases = [
      [{ role: "store", label, location_id: fresh("nowhere") }, 404, "location_not_found"],
      [{ role: "storefront", label, channel: "store" }, 422, "invalid_body"],
      [{ role: "storefront", label, channel: "fax" }, 422, "invalid_body"],
      [{ role: "storefront", label }, 422, "invalid_body"],
      [{ role: "store", label }, 422, "invalid_body"],
      [{ role: "root", label }, 422, "invalid_body"],
      [{ role: "admin", label: " " }, 422, "invalid_body"],
      [{ role: "admin", label, location_id: "x" }, 422, "invalid_body"],
    ];
    for (const [grant, status, code] of cases) {
      expectProblem(await call("POST", "/v1/api-keys", { body: grant }), status, code, JSON.stringify(grant));
    }
    const keys = expectStatus(await call("GET", "/v1/api-keys"), 200).items;
    assert.deepEqual(keys.filter((k) => k.label === label), [], "no key was issued");
  });
});

describe("store keys", () => {
  test("adjust stock at their own location only", async () => {
    const { own, other, sku } = await twoStores(5);
    const pos = await issueKey({ role: "store", location_id: own });
    const mine = await adjust(sku, delta(own, -1, "sold_offline"), { key: pos.secret });
    expectStatus(mine, 201, "own location");
    assert.equal(mine.json.adjustment.recorded_by, pos.id);
    expectProblem(await adjust(sku, delta(other, -1, "sold_offline"), { key: pos.secret }), 403, "other_location");
    assert.equal((await levelAt(sku, own)).on_hand, 4);
    assert.equal((await levelAt(sku, other)).on_hand, 5, "the other location is untouched");
  });

  test("read stock, locations and products, but maintain none of them, nor keys", async () => {
    const { own, sku } = await twoStores();
    const pos = (await issueKey({ role: "store", location_id: own })).secret;
    expectStatus(await call("GET", `/v1/stock/${sku}`, { key: pos }), 200);
    expectStatus(await call("GET", `/v1/locations/${own}`, { key: pos }), 200);
    expectStatus(await call("GET", `/v1/products/${sku}`, { key: pos }), 200);
    expectProblem(await call("PUT", `/v1/locations/${own}`, { key: pos, body: locationDraft({ name: "Mine now" }) }), 403, "admin_only");
    expectProblem(await call("PUT", `/v1/locations/${fresh("new")}`, { key: pos, body: locationDraft() }), 403, "admin_only");
    expectProblem(await call("PUT", `/v1/products/${sku}`, { key: pos, body: productDraft() }), 403, "admin_only");
    expectProblem(await call("GET", "/v1/api-keys", { key: pos }), 403, "admin_only");
    expectProblem(await call("POST", "/v1/api-keys", { key: pos, body: { role: "admin", label: "escalate" } }), 403, "admin_only");
    assert.equal((await call("GET", `/v1/locations/${own}`)).json.name, `Store ${own}`, "the refused PUT changed nothing");
  });

  test("list adjustments of their own location only", async () => {
    const { own, other, sku } = await twoStores();
    await adjust(sku, delta(other, 1, "found"));
    await adjust(sku, delta(own, 2, "found"));
    const pos = (await issueKey({ role: "store", location_id: own })).secret;
    const seen = (await allAdjustments(sku, { key: pos })).items;
    const expected = (await allAdjustments(sku, { query: `location_id=${own}` })).items;
    assert.equal(seen.length, 2, "the set and the +2 at its own location");
    assert.deepEqual(seen, expected);
    assert.deepEqual((await allAdjustments(sku, { key: pos, query: `location_id=${own}` })).items, expected);
    expectProblem(await call("GET", `/v1/stock/${sku}/adjustments?location_id=${other}`, { key: pos }), 403, "other_location");
  });
});

describe("storefront keys", () => {
  test("read stock but change nothing", async () => {
    const { own, sku } = await twoStores(3);
    const web = await issueKey({ role: "storefront", channel: "web" });
    assert.deepEqual([web.role, web.channel, web.location_id], ["storefront", "web", undefined]);
    const key = web.secret;
    assert.equal(expectStatus(await call("GET", `/v1/stock/${sku}`, { key }), 200).total.on_hand, 6);
    expectStatus(await call("POST", "/v1/stock/lookup", { key, body: { skus: [sku] } }), 200);
    expectStatus(await call("GET", `/v1/stock/${sku}/style`, { key }), 200);
    expectProblem(await adjust(sku, delta(own, 1, "found"), { key }), 403, "storefront_cannot_write");
    expectProblem(await call("GET", `/v1/stock/${sku}/adjustments`, { key }), 403, "admin_only");
    expectProblem(await call("GET", "/v1/api-keys", { key }), 403, "admin_only");
    expectProblem(await call("DELETE", `/v1/api-keys/${web.id}`, { key }), 403, "admin_only");
    expectProblem(await call("PUT", `/v1/products/${sku}`, { key, body: productDraft() }), 403, "admin_only");
    assert.equal((await levelAt(sku, own)).on_hand, 3, "nothing changed");
  });
});
