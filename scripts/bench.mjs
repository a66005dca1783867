// Benchmark of the omniedge worker running locally: throughput and p50/p99 latency of a
// few routes, each reported as a ratio to the trivial route (GET /v1/health) and to the
// one-object floor (GET /v1/health/deep) measured in the same run, plus the bundle size
// from `wrangler deploy --dry-run`. Ratios, because the machines are shared and noisy;
// absolute figures only mean something within one run.
//
// This is a measurement, not a test: a missed budget prints MISS and still exits 0. It
// exits non-zero only when setup fails (2) or a scenario sees more than 1% errors (1).
//
// `scripts/bench.sh` runs it against a fresh server of its own, with no devtools session
// (as deployed; BENCH_DEVTOOLS=on for `wrangler dev`'s). Or run it against a running
// server, such as scripts/dev.sh's:
//
//     OMNIEDGE_ADMIN_KEY=<key from .dev.vars> node scripts/bench.mjs
//
// Environment:
//   OMNIEDGE_ADMIN_KEY            admin bearer key (required)
//   OMNIEDGE_URL                  default http://127.0.0.1:8787
//   BENCH_SERVER                  how the server runs, for the report (bench.sh sets it)
//   BENCH_SECONDS                 measured seconds per scenario, default 8
//   BENCH_CONCURRENCY             concurrent closed-loop workers, default 8
//   BENCH_WARMUP_SECONDS          unmeasured warm-up per scenario, default 1
//   BENCH_ONLY                    comma-separated scenarios to run (with trivial and floor;
//                                 `hot-sku` runs its three turns)
//   BENCH_SKIP_BUNDLE=1           skip the bundle-size step
//   BENCH_BUNDLE_TIMEOUT_SECONDS  limit for `wrangler deploy --dry-run` (it runs the custom
//                                 build, which may rebuild the worker), default 900
//
// Setup (idempotent, through the API with the admin key): four `bench-*` locations around
// 52.37,4.89 (three stores, one warehouse), 50 products BENCH-SKU-00..49 of style
// BENCH-STYLE, and a `set` stock adjustment for every product at every bench location.
// Figures go to stdout and, as JSON, to bench/out/latest.json.
//
// To add a scenario (add-to-cart, place-order, open-and-receive, ...), append one entry to SCENARIOS.

import http from "node:http";
import https from "node:https";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT_FILE = path.join(ROOT, "bench", "out", "latest.json");

const MAX_ERROR_RATE = 0.01;
const REQUEST_TIMEOUT_MS = 10_000;
// Budgets (issue "flash-sale stock"): ratios to the trivial route, or to the floor.
const BUDGET_SKU_TO_FLOOR = 0.9; // strong lookups within 10% of the one-object floor
const BUDGET_STALE_SKU_RATIO = 0.8; // max_staleness=1s on a hot SKU
const BUDGET_BATCH_RATIO = 0.15; // 50 SKUs of one style
const BUDGET_ADD_TO_CART_RATIO = 0.2;
const BUDGET_PLACE_ORDER_RATIO = 0.1;
const BUDGET_GZIP_KIB = 1024;
// hot-sku at 50,000 live holds keeps at least this share of its own figure at 0 holds.
const BUDGET_HOT_SKU_KEPT = 0.9;

// ---------------------------------------------------------------------------------------
// Bench data
// ---------------------------------------------------------------------------------------

const STYLE = "BENCH-STYLE";
const PRODUCT_COUNT = 50;
const SKUS = Array.from({ length: PRODUCT_COUNT }, (_, i) => `BENCH-SKU-${String(i).padStart(2, "0")}`);
const HOT_SKU = "BENCH-SKU-07";
const NEAR = { latitude: 52.37, longitude: 4.89 };
const RADIUS_KM = 25;
const COLORS = ["black", "white", "red", "blue", "green"];
const SIZES = ["38", "39", "40", "41", "42", "43", "44", "45", "46", "47"]; // 5 x 10 = 50 variants

const LOCATIONS = [
  location("bench-centrum", "Bench Centrum", "store", "Damrak 1", "1012 LG", 52.3731, 4.8922, true, true),
  location("bench-west", "Bench West", "store", "Jan Evertsenstraat 100", "1056 EH", 52.3712, 4.8571, false, true),
  location("bench-oost", "Bench Oost", "store", "Javaplein 20", "1094 HW", 52.3627, 4.9385, false, true),
  location("bench-warehouse", "Bench Warehouse", "warehouse", "Sloterweg 1000", "1066 CN", 52.3365, 4.8010, true, false),
];

function location(id, name, kind, line1, postalCode, latitude, longitude, shipsOrders, offersPickup) {
  return {
    id,
    body: {
      name,
      kind,
      address: { line1, city: "Amsterdam", postal_code: postalCode, country: "NL" },
      latitude,
      longitude,
      ships_orders: shipsOrders,
      offers_pickup: offersPickup,
    },
  };
}

function product(index) {
  return {
    style: STYLE,
    name: "Bench Runner",
    color: COLORS[Math.floor(index / SIZES.length)],
    size: SIZES[index % SIZES.length],
    price: { amount: "89.95", currency: "EUR" },
    attributes: { purpose: "benchmark" },
  };
}

/** Deterministic, always positive, so `near=` finds every bench location. */
function quantity(skuIndex, locationIndex) {
  return 5 + ((skuIndex * 7 + locationIndex * 13) % 40);
}

/**
 * Creates (or replaces) the bench locations and products and sets their stock. PUT is
 * replace, and the adjustments are `set`s under this run's idempotency keys, so running
 * it again restores the same state.
 */
async function setupBenchData(ctx) {
  const started = performance.now();
  await inPool(LOCATIONS, ctx.concurrency, ({ id, body }) =>
    ctx.expect([200, 201], "PUT", `/v1/locations/${id}`, { body }));
  await inPool(SKUS, ctx.concurrency, (sku, i) =>
    ctx.expect([200, 201], "PUT", `/v1/products/${sku}`, { body: product(i) }));
  const adjustments = SKUS.flatMap((sku, i) => LOCATIONS.map((loc, j) => ({ sku, i, loc, j })));
  await inPool(adjustments, ctx.concurrency, ({ sku, i, loc, j }) =>
    ctx.expect([201], "POST", `/v1/stock/${sku}/adjustments`, {
      headers: { "idempotency-key": `bench-setup-${ctx.runId}-${sku}-${loc.id}` },
      body: { location_id: loc.id, kind: "set", quantity: quantity(i, j), reason: "recount", note: "bench setup" },
    }));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(`setup: ${LOCATIONS.length} locations, ${SKUS.length} products, ${adjustments.length} stock records (${seconds}s)`);
}

// ---------------------------------------------------------------------------------------
// Scenarios
//
// Each entry: name; setup(ctx), run once before its warm-up (prepare state, check that the
// request does what it should); request(ctx, seq), called for every request, returning
// { method, path, headers?, body? } (body: an object, sent as JSON, or a prepared string);
// status, the expected status (default 200). `seq` is unique per scenario and run, for
// idempotency keys and the like; `ctx.runId` is unique per run.
// ---------------------------------------------------------------------------------------

const WORKER_RESTARTED = "Your worker restarted mid-request";
const BATCH_BODY = JSON.stringify({ skus: SKUS }); // prepared once: its cost is not the point
const STALE_BATCH_BODY = JSON.stringify({ skus: SKUS, max_staleness: "1s" });
const ORDER_SKUS = SKUS.slice(40, 43);
const CART_POOL = 200;
const LINE_BODY = JSON.stringify({ quantity: 1 });
const ORDER_BODY = JSON.stringify({
  channel: "web",
  lines: ORDER_SKUS.map((sku) => ({ sku, quantity: 1 })),
  fulfilment: {
    type: "delivery",
    address: { line1: "Damrak 1", city: "Amsterdam", postal_code: "1012 AB", country: "NL" },
    latitude: 52.376,
    longitude: 4.897,
  },
  payment: { method: "prepaid" },
});
// The same sizes spread over 50 styles of one SKU each: what a batch or an order costs
// when its SKUs are kept by different objects.
const SPREAD_SKUS = Array.from({ length: PRODUCT_COUNT }, (_, i) => `BENCH-SPREAD-${String(i).padStart(2, "0")}`);
const SPREAD_BATCH_BODY = JSON.stringify({ skus: SPREAD_SKUS });
const SPREAD_ORDER_SKUS = SPREAD_SKUS.slice(40, 43);
const SPREAD_ORDER_BODY = JSON.stringify({ ...JSON.parse(ORDER_BODY), lines: SPREAD_ORDER_SKUS.map((sku) => ({ sku, quantity: 1 })) });
const BENCH_IDS = new Set(LOCATIONS.map((l) => l.id));
// The flash sale: one SKU per count of live holds, each in a style of its own (so in an
// object of its own), a million units at one store, carts adding it.
const HOT_HOLDS = [0, 10_000, 50_000];
const FLASH_SALES = HOT_HOLDS.map((holds, i) => ({ name: `hot-sku@${holds}`, sku: SPREAD_SKUS[SPREAD_SKUS.length - 1 - i], holds }));
const FLASH_STORE = "bench-centrum";
const BULK_PER_CALL = 5_000;
// A scenario measured in turns (hot-sku) gives each turn its share of the seconds in this
// many rounds.
const TURN_ROUNDS = 3;

const SCENARIOS = [
  {
    name: "trivial",
    setup: async (ctx) => {
      const { json } = await ctx.expect([200], "GET", "/v1/health");
      check(json?.status === "ok", `/v1/health answered ${JSON.stringify(json)}`);
    },
    request: () => ({ method: "GET", path: "/v1/health" }),
  },
  {
    // The one-object floor: a no-op Durable Object call and a D1 read, nothing else.
    name: "floor",
    setup: async (ctx) => {
      const { json } = await ctx.expect([200], "GET", "/v1/health/deep");
      check(json?.status === "ok", `/v1/health/deep answered ${JSON.stringify(json)}`);
    },
    request: () => ({ method: "GET", path: "/v1/health/deep" }),
  },
  {
    name: "sku",
    setup: async (ctx) => {
      const { json } = await ctx.expect([200], "GET", `/v1/stock/${HOT_SKU}`, { headers: ctx.auth });
      const ids = (json?.locations ?? []).map((l) => l.location_id);
      check(ids.length === LOCATIONS.length && ids.every((id) => BENCH_IDS.has(id)),
        `${HOT_SKU} is stocked at [${ids}], expected the ${LOCATIONS.length} bench locations`);
    },
    request: (ctx) => ({ method: "GET", path: `/v1/stock/${HOT_SKU}`, headers: ctx.auth }),
  },
  {
    name: "near",
    setup: async (ctx) => {
      const { json } = await ctx.expect([200], "GET", nearPath(), { headers: ctx.auth });
      const found = json?.locations ?? [];
      check(found.length > 1 && found.every((l) => typeof l.distance_km === "number"),
        `near= found ${found.length} locations with distance_km, expected several`);
    },
    request: (ctx) => ({ method: "GET", path: nearPath(), headers: ctx.auth }),
  },
  {
    // A product page that accepts counts up to a second old (an edge cache in the isolate).
    name: "sku-stale",
    setup: async (ctx) => {
      const answer = await ctx.expect([200], "GET", `/v1/stock/${HOT_SKU}?max_staleness=1s`, { headers: ctx.auth });
      check(typeof answer.json?.read_at === "string", `a bounded read says when it read its counts`);
    },
    request: (ctx) => ({ method: "GET", path: `/v1/stock/${HOT_SKU}?max_staleness=1s`, headers: ctx.auth }),
  },
  {
    name: "batch50",
    setup: async (ctx) => {
      const { json } = await ctx.expect([200], "POST", "/v1/stock/lookup", { headers: ctx.auth, body: BATCH_BODY });
      check(json?.items?.length === SKUS.length, `lookup answered ${json?.items?.length} items, expected ${SKUS.length}`);
    },
    request: (ctx) => ({ method: "POST", path: "/v1/stock/lookup", headers: ctx.auth, body: BATCH_BODY }),
  },
  {
    // A listing page: the same 50 SKUs, counts up to a second old.
    name: "batch50-stale",
    setup: async (ctx) => {
      const { json } = await ctx.expect([200], "POST", "/v1/stock/lookup", { headers: ctx.auth, body: STALE_BATCH_BODY });
      check(json?.items?.length === SKUS.length && json.items.every((i) => typeof i.read_at === "string"),
        `a bounded batch answered ${json?.items?.length} items with read_at, expected ${SKUS.length}`);
    },
    request: (ctx) => ({ method: "POST", path: "/v1/stock/lookup", headers: ctx.auth, body: STALE_BATCH_BODY }),
  },
  {
    // The same 50 lookups, one SKU from each of 50 styles: one object call per style.
    name: "batch50-styles",
    setup: async (ctx) => {
      await spreadStyles(ctx);
      const { json } = await ctx.expect([200], "POST", "/v1/stock/lookup", { headers: ctx.auth, body: SPREAD_BATCH_BODY });
      check(json?.items?.length === SPREAD_SKUS.length, `lookup answered ${json?.items?.length} items, expected ${SPREAD_SKUS.length}`);
    },
    request: (ctx) => ({ method: "POST", path: "/v1/stock/lookup", headers: ctx.auth, body: SPREAD_BATCH_BODY }),
  },
  {
    name: "add-to-cart",
    setup: async (ctx) => {
      await stockForOrders(ctx);
      ctx.carts = [];
      await inPool(Array.from({ length: CART_POOL }), ctx.concurrency, async () => {
        const { json } = await ctx.expect([201], "POST", "/v1/carts", { headers: ctx.auth, body: { channel: "web", hold_seconds: 60 } });
        ctx.carts.push(json.id);
      });
    },
    // Each cart gets up to three lines over the run: every request is a real hold.
    request: (ctx, seq) => ({
      method: "PUT",
      path: `/v1/carts/${ctx.carts[seq % CART_POOL]}/lines/${ORDER_SKUS[Math.floor(seq / CART_POOL) % ORDER_SKUS.length]}`,
      headers: ctx.auth,
      body: LINE_BODY,
    }),
  },
  {
    name: "place-order",
    setup: stockForOrders,
    status: 201,
    request: (ctx, seq) => ({
      method: "POST",
      path: "/v1/orders",
      headers: { ...ctx.auth, "idempotency-key": `bench-order-${ctx.runId}-${seq}` },
      body: ORDER_BODY,
    }),
  },
  {
    // The same order with its 3 lines in 3 styles: one stock call per style.
    name: "place-order-3-styles",
    setup: async (ctx) => {
      await spreadStyles(ctx);
      await stockForOrders(ctx, SPREAD_ORDER_SKUS);
    },
    status: 201,
    request: (ctx, seq) => ({
      method: "POST",
      path: "/v1/orders",
      headers: { ...ctx.auth, "idempotency-key": `bench-order-styles-${ctx.runId}-${seq}` },
      body: SPREAD_ORDER_BODY,
    }),
  },
  {
    // Add-to-cart on a SKU while 0, 10,000 and 50,000 other holds on it are live. The
    // three are measured in turns, in rotation, so that a change in the machine's load
    // falls on all three alike. Needs the test hook that opens holds in bulk (a server
    // with FAULT_INJECTION enabled: scripts/bench.sh, or OMNIEDGE_TEST_HOOKS=1 scripts/dev.sh).
    name: "hot-sku",
    available: testHooksServed,
    turns: FLASH_SALES,
    setup: async (ctx) => {
      await spreadStyles(ctx);
      ctx.flashCarts = {};
      for (const { sku, holds } of FLASH_SALES) ctx.flashCarts[sku] = await flashSale(ctx, sku, holds);
    },
    // Every request changes a cart's line of the flash SKU: a real re-hold each time.
    request: (ctx, seq, turn) => ({
      method: "PUT",
      path: `/v1/carts/${ctx.flashCarts[turn.sku][seq % CART_POOL]}/lines/${turn.sku}`,
      headers: ctx.auth,
      body: { quantity: 1 + (Math.floor(seq / CART_POOL) % 3) },
    }),
  },
  {
    // A store's POS takes one unit of a collected order back on the spot: the return is
    // opened, received (back on hand at once) and its steps written, in one call. Every
    // return writes against its order's revision, so the requests spread over a pool of
    // orders (more than the workers in flight) to measure the work, not the contention.
    name: "open-and-receive",
    setup: returnableOrders,
    status: 201,
    request: (ctx, seq) => ({
      method: "POST",
      path: "/v1/returns",
      headers: { ...ctx.auth, "idempotency-key": `bench-return-${ctx.runId}-${seq}` },
      body: {
        order_id: ctx.returnable[seq % ctx.returnable.length],
        location_id: RETURN_STORE,
        lines: [{ sku: RETURN_SKU, quantity: 1, reason: { code: "wrong_size" } }],
        received: [{ sku: RETURN_SKU, condition: "resellable" }],
      },
    }),
  },
];

const RETURN_SKU = "BENCH-SKU-44";
const RETURN_STORE = "bench-west";
const RETURN_ORDERS = 64;
const RETURN_UNITS = 2_000;

/** Collected orders of many units each, at the store that takes the returns back. */
async function returnableOrders(ctx) {
  await ctx.expect([201], "POST", `/v1/stock/${RETURN_SKU}/adjustments`, {
    headers: { "idempotency-key": `bench-return-stock-${ctx.runId}` },
    body: { location_id: RETURN_STORE, kind: "set", quantity: RETURN_ORDERS * RETURN_UNITS, reason: "recount", note: "bench returns" },
  });
  ctx.returnable = [];
  await inPool(Array.from({ length: RETURN_ORDERS }, (_, i) => i), ctx.concurrency, async (i) => {
    const { json } = await ctx.expect([201], "POST", "/v1/orders", {
      headers: { "idempotency-key": `bench-returnable-${ctx.runId}-${i}` },
      body: {
        channel: "web",
        lines: [{ sku: RETURN_SKU, quantity: RETURN_UNITS }],
        fulfilment: { type: "pickup", location_id: RETURN_STORE },
        payment: { method: "pay_on_pickup" },
      },
    });
    for (const action of ["mark_ready", "collect"]) await ctx.expect([200], "POST", `/v1/orders/${json.id}/${action}`);
    ctx.returnable.push(json.id);
  });
}

/** Whether the server serves the test hooks (answers 404 not_found when it does not). */
async function testHooksServed(ctx) {
  const res = await ctx.client.send(
    { method: "POST", path: `/v1/test-hooks/stock/${SKUS[0]}/holds`, headers: ctx.auth, body: { location_id: FLASH_STORE, count: 0, hold_seconds: 1 } },
    { keepBody: true },
  );
  return res.status === 422;
}

/**
 * A flash sale on `sku`: a million units at the flash store, `holds` live one-unit holds
 * on it (opened in bulk through the test hook; they last an hour) and the carts that add
 * it. Answers the carts.
 */
async function flashSale(ctx, sku, holds) {
  await ctx.expect([201], "POST", `/v1/stock/${sku}/adjustments`, {
    headers: { "idempotency-key": `bench-flash-${ctx.runId}-${sku}` },
    body: { location_id: FLASH_STORE, kind: "set", quantity: 1_000_000, reason: "recount", note: "bench flash sale" },
  });
  for (let opened = 0; opened < holds; opened += BULK_PER_CALL) {
    const count = Math.min(BULK_PER_CALL, holds - opened);
    const { json } = await ctx.expect([201], "POST", `/v1/test-hooks/stock/${sku}/holds`, {
      headers: ctx.auth,
      body: { location_id: FLASH_STORE, count, hold_seconds: 3600 },
    });
    check(json?.held === count, `the test hook opened ${json?.held} holds, expected ${count}`);
  }
  const carts = [];
  await inPool(Array.from({ length: CART_POOL }), ctx.concurrency, async () => {
    const { json } = await ctx.expect([201], "POST", "/v1/carts", { headers: ctx.auth, body: { channel: "web" } });
    carts.push(json.id);
  });
  return carts;
}

/** Gives the order SKUs ample stock at the shipping locations, so no run runs out. */
async function stockForOrders(ctx, skus = ORDER_SKUS) {
  const shipping = LOCATIONS.filter((l) => l.body.ships_orders);
  const sets = skus.flatMap((sku) => shipping.map((loc) => ({ sku, loc })));
  await inPool(sets, ctx.concurrency, ({ sku, loc }) =>
    ctx.expect([201], "POST", `/v1/stock/${sku}/adjustments`, {
      headers: { "idempotency-key": `bench-orders-${ctx.runId}-${sku}-${loc.id}` },
      body: { location_id: loc.id, kind: "set", quantity: 1_000_000, reason: "recount", note: "bench orders" },
    }));
}

/** The spread SKUs (one per style) and their stock (once per run). */
async function spreadStyles(ctx) {
  if (ctx.spread) return;
  await inPool(SPREAD_SKUS, ctx.concurrency, (sku, i) =>
    ctx.expect([200, 201], "PUT", `/v1/products/${sku}`, { body: { ...product(i), style: `${sku}-STYLE` } }));
  const adjustments = SPREAD_SKUS.flatMap((sku, i) => LOCATIONS.map((loc, j) => ({ sku, i, loc, j })));
  await inPool(adjustments, ctx.concurrency, ({ sku, i, loc, j }) =>
    ctx.expect([201], "POST", `/v1/stock/${sku}/adjustments`, {
      headers: { "idempotency-key": `bench-spread-${ctx.runId}-${sku}-${loc.id}` },
      body: { location_id: loc.id, kind: "set", quantity: quantity(i, j), reason: "recount", note: "bench setup" },
    }));
  ctx.spread = true;
}

function nearPath() {
  return `/v1/stock/${HOT_SKU}?near=${NEAR.latitude},${NEAR.longitude}&radius_km=${RADIUS_KM}`;
}

// ---------------------------------------------------------------------------------------
// HTTP client: node:http with one keep-alive agent
// ---------------------------------------------------------------------------------------

class SetupError extends Error {}

function check(condition, message) {
  if (!condition) throw new SetupError(message);
}

function createClient(baseUrl, concurrency) {
  const url = new URL(baseUrl);
  const transport = url.protocol === "https:" ? https : http;
  const agent = new transport.Agent({ keepAlive: true, maxSockets: Math.max(concurrency, 8) });
  const basePath = url.pathname.replace(/\/+$/, "");
  const port = url.port || (url.protocol === "https:" ? 443 : 80);

  /**
   * Sends one request. Resolves (never rejects) with { status, text?, error? }: status 0
   * and `error` for a network failure or timeout. The body is read fully (keep-alive needs
   * that) but kept only when `keepBody` or the status is not the expected one.
   */
  function send({ method, path: reqPath, headers = {}, body }, { keepBody = false, expectStatus = 200 } = {}) {
    return new Promise((resolve) => {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      const allHeaders = { accept: "application/json", ...headers };
      if (payload !== undefined) {
        allHeaders["content-type"] = "application/json";
        allHeaders["content-length"] = Buffer.byteLength(payload);
      }
      const req = transport.request(
        { hostname: url.hostname, port, path: basePath + reqPath, method, headers: allHeaders, agent },
        (res) => {
          const status = res.statusCode;
          if (!keepBody && status === expectStatus) {
            res.on("end", () => resolve({ status }));
            res.on("error", (error) => resolve({ status: 0, error }));
            res.resume();
            return;
          }
          const chunks = [];
          res.on("data", (chunk) => chunks.push(chunk));
          res.on("end", () => resolve({ status, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", (error) => resolve({ status: 0, error }));
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", (error) => resolve({ status: 0, error }));
      req.end(payload);
    });
  }

  return { send, close: () => agent.destroy() };
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A short description of an unexpected answer, for grouping and printing errors. */
function describe(res) {
  if (res.status === 0) return `network: ${res.error?.code ?? res.error?.message ?? res.error}`;
  const json = parseJson(res.text ?? "");
  const detail = json?.code ?? (res.text ?? "").slice(0, 80).replace(/\s+/g, " ");
  return `HTTP ${res.status}${detail ? ` ${detail}` : ""}`;
}

// ---------------------------------------------------------------------------------------
// Closed-loop runner
// ---------------------------------------------------------------------------------------

/**
 * Runs `concurrency` workers, each sending the next request as soon as the previous one is
 * answered, until `seconds` have passed. Returns the statistics when `measure` is set.
 */
async function runLoop(ctx, scenario, seconds, measure, seqStart) {
  const expectStatus = scenario.status ?? 200;
  const latencies = [];
  const errorKinds = new Map();
  let requests = 0;
  let errors = 0;
  let seq = seqStart;

  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const request = scenario.request(ctx, seq++);
      const t0 = performance.now();
      const res = await ctx.client.send(request, { expectStatus });
      const ms = performance.now() - t0;
      if (!measure) continue;
      requests++;
      if (res.status === expectStatus) {
        latencies.push(ms);
      } else {
        errors++;
        const kind = describe(res);
        errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: ctx.concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  return { seq, sample: { requests, errors, latencies, elapsed, errorKinds } };
}

/** One scenario's figures from the samples of its measured runs. */
function statsOf(name, samples) {
  const sum = (key) => samples.reduce((total, sample) => total + sample[key], 0);
  const [requests, errors, elapsed] = [sum("requests"), sum("errors"), sum("elapsed")];
  const latencies = samples.flatMap((sample) => sample.latencies).sort((a, b) => a - b);
  const errorKinds = {};
  for (const sample of samples) for (const [kind, n] of sample.errorKinds) errorKinds[kind] = (errorKinds[kind] ?? 0) + n;
  return {
    name,
    requests,
    errors,
    error_rate: requests ? errors / requests : 1,
    seconds: elapsed,
    // Throughput counts answered-as-expected requests only.
    throughput_rps: latencies.length / elapsed,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    error_kinds: errorKinds,
  };
}

/** Nearest-rank percentile of a sorted array; null when empty. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A scenario's figures; one per turn for a scenario measured in turns. */
async function runScenario(ctx, scenario) {
  await scenario.setup(ctx);
  if (scenario.turns) return runTurns(ctx, scenario);
  log(`${scenario.name}: warm-up ${ctx.warmupSeconds}s, then ${ctx.seconds}s with ${ctx.concurrency} workers`);
  let seq = 0;
  if (ctx.warmupSeconds > 0) ({ seq } = await runLoop(ctx, scenario, ctx.warmupSeconds, false, seq));
  const { sample } = await runLoop(ctx, scenario, ctx.seconds, true, seq);
  return [statsOf(scenario.name, [sample])];
}

/**
 * A scenario measured in turns (its `turns`, each a variant passed to `request`): after a
 * warm-up of each, TURN_ROUNDS rounds give each turn a share of the measured seconds in
 * rotation, so that the machine's changing load falls on every turn alike.
 */
async function runTurns(ctx, scenario) {
  log(`${scenario.name}: ${scenario.turns.map((t) => t.name).join(", ")}: warm-up ${ctx.warmupSeconds}s each, ` +
    `then ${ctx.seconds}s each in ${TURN_ROUNDS} rounds with ${ctx.concurrency} workers`);
  const runs = scenario.turns.map((turn) => ({
    turn,
    seq: 0,
    samples: [],
    scenario: { ...scenario, name: turn.name, request: (c, seq) => scenario.request(c, seq, turn) },
  }));
  for (const run of runs) {
    if (ctx.warmupSeconds > 0) ({ seq: run.seq } = await runLoop(ctx, run.scenario, ctx.warmupSeconds, false, run.seq));
  }
  for (let round = 0; round < TURN_ROUNDS; round++) {
    for (const run of runs) {
      const { seq, sample } = await runLoop(ctx, run.scenario, ctx.seconds / TURN_ROUNDS, true, run.seq);
      run.seq = seq;
      run.samples.push(sample);
    }
  }
  return runs.map((run) => statsOf(run.turn.name, run.samples));
}

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects on the first failure. */
async function inPool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---------------------------------------------------------------------------------------
// Bundle size: `wrangler deploy --dry-run`
// ---------------------------------------------------------------------------------------

/** { total_kib, gzip_kib } or { unavailable: reason }; never throws. */
async function measureBundle() {
  if (process.env.BENCH_SKIP_BUNDLE === "1") return { unavailable: "skipped (BENCH_SKIP_BUNDLE=1)" };
  const wrangler = path.join(ROOT, "node_modules", ".bin", "wrangler");
  if (!existsSync(wrangler)) return { unavailable: "node_modules/.bin/wrangler not found (run scripts/setup.sh)" };

  const timeoutSeconds = numberFromEnv("BENCH_BUNDLE_TIMEOUT_SECONDS", 900, 1);
  const outdir = mkdtempSync(path.join(os.tmpdir(), "omniedge-bundle-"));
  log("bundle: wrangler deploy --dry-run (runs the custom build first) ...");
  try {
    const { code, output, failure } = await runCommand(
      wrangler, ["deploy", "--dry-run", "--outdir", outdir],
      { cwd: ROOT, timeoutMs: timeoutSeconds * 1000, env: { WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" } },
    );
    const text = output.replace(/\x1b\[[0-9;]*m/g, "");
    const match = text.match(/Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/);
    if (failure || code !== 0 || !match) {
      let reason = failure ?? (code !== 0 ? `wrangler exited with code ${code}` : "no \"Total Upload\" line in wrangler's output");
      const detail = lastErrorLine(text);
      if (detail) reason += `: ${detail}`;
      if (!existsSync(path.join(ROOT, "functions", "build", "index.js"))) reason += " (build output functions/build/index.js is missing)";
      return { unavailable: reason };
    }
    return { total_kib: Number(match[1]), gzip_kib: Number(match[2]) };
  } catch (error) {
    return { unavailable: `could not run wrangler: ${error.message}` };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The gist of a failed wrangler run: its [ERROR] lines, else its last line. */
function lastErrorLine(text) {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const errors = lines
    .filter((l) => l.includes("[ERROR]"))
    .map((l) => l.replace(/^.*?\[ERROR\]\s*/, "").replace(/:$/, ""));
  return (errors.length ? errors.join(" / ") : lines.at(-1) ?? "").slice(0, 300);
}

/** Runs a command in its own process group; resolves with its exit code and combined output. */
function runCommand(command, args, { cwd, env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // own process group, so a timeout also ends the build it started
    });
    let output = "";
    let failure;
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      failure = `wrangler did not finish within ${timeoutMs / 1000}s`;
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        child.kill("SIGTERM");
      }
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, output, failure });
    });
  });
}

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

function withRatios(results) {
  const rate = (name) => results.find((r) => r.name === name)?.throughput_rps;
  const [trivial, floor] = [rate("trivial"), rate("floor")];
  return results.map((r) => ({
    ...r,
    ratio_to_trivial: trivial ? r.throughput_rps / trivial : null,
    ratio_to_floor: floor ? r.throughput_rps / floor : null,
  }));
}

function ratioBudget(results, scenario, minimum, to = "trivial") {
  const ratio = results.find((r) => r.name === scenario)?.[`ratio_to_${to}`] ?? null;
  return {
    name: `${scenario} throughput >= ${minimum.toFixed(2)} x ${to}`,
    value: ratio === null ? "n/a" : ratio.toFixed(2),
    status: ratio === null ? "N/A" : ratio >= minimum ? "PASS" : "MISS",
  };
}

/** hot-sku at the most live holds against its own figure at none. */
function hotSkuBudget(results) {
  const at = (holds) => results.find((r) => r.name === `hot-sku@${holds}`)?.throughput_rps ?? null;
  const [none, most] = [at(HOT_HOLDS[0]), at(HOT_HOLDS[HOT_HOLDS.length - 1])];
  const kept = none && most !== null ? most / none : null;
  return {
    name: `hot-sku@${HOT_HOLDS[HOT_HOLDS.length - 1]} >= ${BUDGET_HOT_SKU_KEPT} x hot-sku@0`,
    value: kept === null ? "n/a" : kept.toFixed(2),
    status: kept === null ? "N/A" : kept >= BUDGET_HOT_SKU_KEPT ? "PASS" : "MISS",
  };
}

function budgets(results, bundle) {
  const gzip = bundle.gzip_kib ?? null;
  return [
    ratioBudget(results, "sku", BUDGET_SKU_TO_FLOOR, "floor"),
    ratioBudget(results, "near", BUDGET_SKU_TO_FLOOR, "floor"),
    ratioBudget(results, "sku-stale", BUDGET_STALE_SKU_RATIO),
    ratioBudget(results, "batch50", BUDGET_BATCH_RATIO),
    ratioBudget(results, "add-to-cart", BUDGET_ADD_TO_CART_RATIO),
    ratioBudget(results, "place-order", BUDGET_PLACE_ORDER_RATIO),
    hotSkuBudget(results),
    {
      name: `bundle gzip < ${BUDGET_GZIP_KIB} KiB`,
      value: gzip === null ? "n/a" : `${gzip.toFixed(2)} KiB`,
      status: gzip === null ? "N/A" : gzip < BUDGET_GZIP_KIB ? "PASS" : "MISS",
    },
  ];
}

function printTable(results) {
  const fmt = (v, digits) => (v === null || v === undefined ? "-" : v.toFixed(digits));
  const rows = [
    ["scenario", "requests", "errors", "req/s", "p50 ms", "p99 ms", "vs trivial", "vs floor"],
    ...results.map((r) => [
      r.name, String(r.requests), String(r.errors), fmt(r.throughput_rps, 1),
      fmt(r.p50_ms, 2), fmt(r.p99_ms, 2), fmt(r.ratio_to_trivial, 2), fmt(r.ratio_to_floor, 2),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  console.log("");
  for (const [i, row] of rows.entries()) {
    console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
  for (const r of results) {
    for (const [kind, count] of Object.entries(r.error_kinds)) console.log(`  ${r.name} errors: ${count} x ${kind}`);
  }
}

function writeJson(report) {
  const round = (v) => (typeof v === "number" && !Number.isInteger(v) ? Math.round(v * 1000) / 1000 : v);
  mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, JSON.stringify(report, (_, v) => round(v), 2) + "\n");
  log(`wrote ${path.relative(process.cwd(), OUT_FILE) || OUT_FILE}`);
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

function log(message) {
  console.log(message);
}

function numberFromEnv(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new SetupError(`${name} must be a number >= ${min}, got "${raw}"`);
  return value;
}

function settings() {
  const adminKey = process.env.OMNIEDGE_ADMIN_KEY;
  if (!adminKey) throw new SetupError("OMNIEDGE_ADMIN_KEY is required (the admin bearer key, e.g. from .dev.vars)");
  const baseUrl = process.env.OMNIEDGE_URL || "http://127.0.0.1:8787";
  try {
    new URL(baseUrl);
  } catch {
    throw new SetupError(`OMNIEDGE_URL is not a URL: "${baseUrl}"`);
  }
  return {
    baseUrl,
    adminKey,
    seconds: numberFromEnv("BENCH_SECONDS", 8, 0.1),
    concurrency: Math.floor(numberFromEnv("BENCH_CONCURRENCY", 8, 1)),
    warmupSeconds: numberFromEnv("BENCH_WARMUP_SECONDS", 1, 0),
    server: process.env.BENCH_SERVER ?? null,
  };
}

function createContext(config) {
  const client = createClient(config.baseUrl, config.concurrency);
  const auth = { authorization: `Bearer ${config.adminKey}` };
  const ctx = {
    ...config,
    client,
    auth,
    runId: randomUUID(),
    /** A setup call (admin auth by default); throws SetupError unless the status is one of `statuses`. */
    async expect(statuses, method, reqPath, { headers = auth, body } = {}) {
      const send = () => client.send({ method, path: reqPath, headers: { ...auth, ...headers }, body }, { keepBody: true });
      let res = await send();
      // `wrangler dev`'s proxy answers this (plain text, not the API's problem document)
      // when it reloaded the worker under a request; setup asks again, at most twice.
      for (let retry = 0; retry < 2 && res.status === 503 && (res.text ?? "").startsWith(WORKER_RESTARTED); retry++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        res = await send();
      }
      if (!statuses.includes(res.status)) {
        const detail = res.status === 0 ? describe(res) : `HTTP ${res.status}: ${(res.text ?? "").slice(0, 500)}`;
        throw new SetupError(`${method} ${reqPath} -> expected ${statuses.join("/")}, got ${detail}`);
      }
      return { status: res.status, json: parseJson(res.text ?? "") };
    },
  };
  return ctx;
}

async function main() {
  let ctx;
  try {
    ctx = createContext(settings());
    log(`omniedge bench against ${ctx.baseUrl}${ctx.server ? ` (${ctx.server})` : ""}: ${ctx.seconds}s per scenario, ` +
      `${ctx.concurrency} workers, ${ctx.warmupSeconds}s warm-up`);
    const health = await ctx.client.send({ method: "GET", path: "/v1/health" }, { keepBody: true });
    if (health.status !== 200) {
      throw new SetupError(`${ctx.baseUrl}/v1/health -> ${describe(health)}; is \`wrangler dev\` running (scripts/dev.sh)?`);
    }
    await setupBenchData(ctx);
  } catch (error) {
    ctx?.client.close();
    return fail(error);
  }

  const results = [];
  let aborted = null;
  try {
    const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim()).filter(Boolean);
    for (const scenario of SCENARIOS) {
      if (only && !["trivial", "floor", ...only].includes(scenario.name)) continue;
      if (scenario.available && !(await scenario.available(ctx))) {
        log(`${scenario.name}: skipped (the server does not serve the test hooks; see OMNIEDGE_TEST_HOOKS in the README)`);
        continue;
      }
      const measured = await runScenario(ctx, scenario);
      results.push(...measured);
      const failing = measured.find((stats) => stats.error_rate > MAX_ERROR_RATE);
      if (failing) {
        aborted = `${failing.name}: ${failing.errors} of ${failing.requests} requests failed ` +
          `(${(failing.error_rate * 100).toFixed(2)}% > ${MAX_ERROR_RATE * 100}%)`;
        break;
      }
    }
  } catch (error) {
    ctx.client.close();
    return fail(error);
  }
  ctx.client.close();

  const scenarios = withRatios(results);
  printTable(scenarios);

  const report = {
    generated_at: new Date().toISOString(),
    url: ctx.baseUrl,
    server: ctx.server,
    settings: { seconds: ctx.seconds, concurrency: ctx.concurrency, warmup_seconds: ctx.warmupSeconds },
    machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()}-${os.arch()}` },
    scenarios,
  };

  if (aborted) {
    console.log(`\nABORTED: ${aborted}`);
    writeJson({ ...report, aborted });
    return 1;
  }

  console.log("");
  const bundle = await measureBundle();
  console.log(bundle.unavailable
    ? `bundle: unavailable: ${bundle.unavailable}`
    : `bundle: ${bundle.total_kib.toFixed(2)} KiB total, ${bundle.gzip_kib.toFixed(2)} KiB gzip`);

  const checks = budgets(scenarios, bundle);
  console.log("budgets:");
  for (const b of checks) console.log(`  ${b.status.padEnd(4)}  ${b.name}: ${b.value}`);

  writeJson({ ...report, bundle, budgets: checks });
  return 0;
}

function fail(error) {
  if (error instanceof SetupError) console.error(`setup failed: ${error.message}`);
  else console.error("bench failed:", error);
  return 2;
}

process.exitCode = await main();
