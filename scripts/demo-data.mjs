#!/usr/bin/env node
// Demo data for omniedge: loads a small Amsterdam shoe-and-apparel retailer into a running
// omniedge through its public API, so there is something to look at and try with curl.
//
//   OMNIEDGE_ADMIN_KEY=<admin bearer key> [OMNIEDGE_URL=http://127.0.0.1:8787] node scripts/demo-data.mjs
//
// What it creates: 4 stores, 1 warehouse and 1 pickup point (PUT /v1/locations/{id}), ~30 SKUs
// in 4 styles (PUT /v1/products/{sku}), uneven stock levels (POST /v1/stock/{sku}/adjustments,
// kind "set"), and one store key (POS Kalverstraat) plus one storefront key (web shop).
//
// It is safe to run again: PUT replaces locations and products, every stock adjustment carries a
// deterministic Idempotency-Key (demo-<sku>-<location>) so a re-run replays instead of changing
// stock, and API keys are only issued when no unrevoked key with the same label exists (their
// secrets are shown once, on the run that created them).
// Node 20, no dependencies. Exits non-zero, printing status and body, on any unexpected response.

const BASE = (process.env.OMNIEDGE_URL || 'http://127.0.0.1:8787').replace(/\/+$/, '');
const ADMIN_KEY = process.env.OMNIEDGE_ADMIN_KEY;
const CONCURRENCY = 6;

// ---------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------

const LOCATIONS = [
  {
    id: 'ams-kalverstraat', name: 'Omniedge Kalverstraat', kind: 'store',
    address: { line1: 'Kalverstraat 92', city: 'Amsterdam', postal_code: '1012 PH', country: 'NL' },
    latitude: 52.3702, longitude: 4.8930, ships_orders: true, offers_pickup: true,
  },
  {
    id: 'ams-de-pijp', name: 'Omniedge De Pijp', kind: 'store',
    address: { line1: 'Ferdinand Bolstraat 45', city: 'Amsterdam', postal_code: '1072 LB', country: 'NL' },
    latitude: 52.3547, longitude: 4.8936, ships_orders: false, offers_pickup: true,
  },
  {
    id: 'ams-oost', name: 'Omniedge Oost', kind: 'store',
    address: { line1: 'Linnaeusstraat 30', city: 'Amsterdam', postal_code: '1093 EJ', country: 'NL' },
    latitude: 52.3600, longitude: 4.9250, ships_orders: true, offers_pickup: true,
  },
  {
    id: 'ams-noord', name: 'Omniedge Noord', kind: 'store',
    address: { line1: 'Van der Pekstraat 60', city: 'Amsterdam', postal_code: '1031 CS', country: 'NL' },
    latitude: 52.3880, longitude: 4.9170, ships_orders: false, offers_pickup: true,
  },
  {
    id: 'wh-schiphol', name: 'Omniedge Warehouse Schiphol', kind: 'warehouse',
    address: { line1: 'Fokkerweg 300', line2: 'Hal 4', city: 'Oude Meer', postal_code: '1438 AN', country: 'NL' },
    latitude: 52.3000, longitude: 4.7500, ships_orders: true, offers_pickup: false,
  },
  {
    id: 'pp-centraal', name: 'Omniedge Pickup Point Centraal', kind: 'pickup_point',
    address: { line1: 'Stationsplein 15', line2: 'Kiosk 3', city: 'Amsterdam', postal_code: '1012 AB', country: 'NL' },
    latitude: 52.3791, longitude: 4.9003, ships_orders: false, offers_pickup: true,
  },
];

// One row per style; every color x size combination becomes a SKU `<style>-<color code>-<size>`.
const STYLES = [
  {
    style: 'TRAIL', name: 'Trail Runner', price: '119.95',
    attributes: { category: 'shoes', gender: 'unisex', material: 'recycled mesh' },
    colors: [{ code: 'BLK', color: 'black' }, { code: 'BLU', color: 'blue' }],
    sizes: ['40', '41', '42', '43', '44'],
  },
  {
    style: 'CITY', name: 'City Sneaker', price: '89.95',
    attributes: { category: 'shoes', gender: 'unisex', material: 'leather' },
    colors: [{ code: 'WHT', color: 'white' }, { code: 'GRY', color: 'grey' }],
    sizes: ['38', '39', '40', '41'],
  },
  {
    style: 'HOODIE', name: 'Canal Hoodie', price: '69.95',
    attributes: { category: 'apparel', gender: 'unisex', material: 'organic cotton fleece' },
    colors: [{ code: 'BLK', color: 'black' }, { code: 'GRN', color: 'green' }],
    sizes: ['S', 'M', 'L', 'XL'],
  },
  {
    style: 'TEE', name: 'Logo Tee', price: '24.95',
    attributes: { category: 'apparel', gender: 'unisex', material: 'organic cotton' },
    colors: [{ code: 'WHT', color: 'white' }],
    sizes: ['S', 'M', 'L', 'XL'],
  },
];

// On-hand quantities ("set", reason "recount"). A number sets that level (0 = a record showing
// sold out); null means no stock record at that location at all. The pickup point never holds stock.
const STOCK_COLUMNS = ['wh-schiphol', 'ams-kalverstraat', 'ams-de-pijp', 'ams-oost', 'ams-noord'];
const STOCK = [
  // sku             schiphol kalverstr de-pijp  oost  noord
  ['TRAIL-BLK-40',   14,      1,        null,    null, null],
  ['TRAIL-BLK-41',   22,      2,        1,       null, 1],
  ['TRAIL-BLK-42',   30,      3,        2,       1,    0],
  ['TRAIL-BLK-43',   25,      2,        1,       2,    null],
  ['TRAIL-BLK-44',   8,       0,        null,    1,    null],
  ['TRAIL-BLU-40',   0,       null,     null,    2,    null],  // only in Oost
  ['TRAIL-BLU-41',   10,      1,        null,    null, null],
  ['TRAIL-BLU-42',   12,      0,        1,       null, 1],
  ['TRAIL-BLU-43',   6,       null,     null,    null, null],  // warehouse only
  ['TRAIL-BLU-44',   0,       0,        null,    0,    null],  // sold out everywhere
  ['CITY-WHT-38',    18,      2,        2,       1,    1],
  ['CITY-WHT-39',    24,      3,        1,       2,    1],
  ['CITY-WHT-40',    20,      2,        0,       1,    2],
  ['CITY-WHT-41',    9,       1,        null,    null, null],
  ['CITY-GRY-38',    null,    null,     null,    null, null],  // never stocked: no records
  ['CITY-GRY-39',    0,       null,     1,       null, null],  // only in De Pijp
  ['CITY-GRY-40',    7,       1,        null,    null, null],
  ['CITY-GRY-41',    5,       null,     null,    1,    null],
  ['HOODIE-BLK-S',   16,      2,        1,       null, 1],
  ['HOODIE-BLK-M',   28,      4,        2,       2,    2],
  ['HOODIE-BLK-L',   26,      3,        2,       1,    1],
  ['HOODIE-BLK-XL',  11,      1,        0,       null, null],
  ['HOODIE-GRN-S',   0,       null,     null,    null, 1],     // only in Noord
  ['HOODIE-GRN-M',   9,       1,        null,    1,    null],
  ['HOODIE-GRN-L',   8,       null,     1,       null, null],
  ['HOODIE-GRN-XL',  0,       0,        0,       0,    0],     // sold out everywhere
  ['TEE-WHT-S',      40,      5,        3,       4,    2],
  ['TEE-WHT-M',      60,      6,        4,       5,    3],
  ['TEE-WHT-L',      55,      4,        3,       3,    2],
  ['TEE-WHT-XL',     20,      0,        1,       null, null],
];

// Issued only when no unrevoked key with the same label exists.
const API_KEYS = [
  { role: 'store', label: 'Demo POS Kalverstraat', location_id: 'ams-kalverstraat' },
  { role: 'storefront', label: 'Demo web shop', channel: 'web' },
];

const IMAGE_BASE = 'https://img.omniedge.example/products';

function products() {
  const out = [];
  for (const s of STYLES) {
    for (const c of s.colors) {
      const image = `${IMAGE_BASE}/${s.style.toLowerCase()}-${c.code.toLowerCase()}.jpg`;
      for (const size of s.sizes) {
        out.push({
          sku: `${s.style}-${c.code}-${size}`,
          body: {
            style: s.style,
            name: s.name,
            color: c.color,
            size,
            price: { amount: s.price, currency: 'EUR' },
            attributes: { ...s.attributes },
            images: [image, `${IMAGE_BASE}/${s.style.toLowerCase()}-${c.code.toLowerCase()}-side.jpg`],
          },
        });
      }
    }
  }
  return out;
}

function stockRecords(knownSkus) {
  const out = [];
  for (const [sku, ...levels] of STOCK) {
    if (!knownSkus.has(sku)) throw new Error(`STOCK table names ${sku}, which is not in STYLES`);
    if (levels.length !== STOCK_COLUMNS.length) throw new Error(`STOCK row ${sku} needs ${STOCK_COLUMNS.length} columns`);
    levels.forEach((quantity, i) => {
      if (quantity !== null) out.push({ sku, location_id: STOCK_COLUMNS[i], quantity });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

class ApiError extends Error {}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function networkCode(err) {
  return err?.cause?.code || err?.code || err?.cause?.name || err?.name || 'unknown';
}

// `retrySafe`: the request may be re-sent after any network error (PUT, idempotent POST).
// Otherwise it is only re-sent when the connection was refused, i.e. it never reached the server.
async function api(method, path, { body, headers = {}, expect = [200], retrySafe = true } = {}) {
  const deadline = Date.now() + 90_000; // the server may be restarting while someone rebuilds
  let attempt = 0;
  for (;;) {
    attempt += 1;
    let res;
    try {
      res = await fetch(BASE + path, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_KEY}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const code = networkCode(err);
      const retry = retrySafe || code === 'ECONNREFUSED';
      if (retry && Date.now() < deadline) {
        if (attempt === 1 || attempt % 10 === 0) console.error(`  ${method} ${path}: ${code}, retrying...`);
        await sleep(Math.min(500 * attempt, 3000));
        continue;
      }
      throw new ApiError(`${method} ${path} failed: ${code} (${err.message}) at ${BASE}`);
    }
    const text = await res.text();
    if (res.status === 503 && retrySafe && Date.now() < deadline) {
      await sleep(Math.min(500 * attempt, 3000));
      continue;
    }
    if (!expect.includes(res.status)) {
      let hint = '';
      if (res.status === 422 && text.includes('idempotency_key_reused')) {
        hint = '\n  (the demo table changed since these keys were first used; reset the server state to reload it)';
      }
      throw new ApiError(`${method} ${path} -> ${res.status} (expected ${expect.join(' or ')})\n  ${text}${hint}`);
    }
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        throw new ApiError(`${method} ${path} -> ${res.status} with a body that is not JSON:\n  ${text}`);
      }
    }
    return { status: res.status, headers: res.headers, json };
  }
}

// Runs `fn` over `items` with at most `limit` calls in flight; stops scheduling on the first error.
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  let failed = false;
  async function worker() {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((s) => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main() {
  if (!ADMIN_KEY) {
    console.error('OMNIEDGE_ADMIN_KEY is required (an admin bearer key for the omniedge at OMNIEDGE_URL).');
    process.exit(2);
  }
  console.log(`Loading demo data into ${BASE}`);

  await api('GET', '/v1/health', { expect: [200] });

  // Locations
  const locStatus = await pool(LOCATIONS, CONCURRENCY, async ({ id, ...body }) => {
    const { status } = await api('PUT', `/v1/locations/${enc(id)}`, { body, expect: [200, 201] });
    return status;
  });
  const locCreated = locStatus.filter((s) => s === 201).length;
  console.log(`  locations: ${LOCATIONS.length} (${locCreated} created, ${LOCATIONS.length - locCreated} replaced)`);

  // Products
  const PRODUCTS = products();
  const prodStatus = await pool(PRODUCTS, CONCURRENCY, async ({ sku, body }) => {
    const { status } = await api('PUT', `/v1/products/${enc(sku)}`, { body, expect: [200, 201] });
    return status;
  });
  const prodCreated = prodStatus.filter((s) => s === 201).length;
  console.log(`  products:  ${PRODUCTS.length} in ${STYLES.length} styles (${prodCreated} created, ${PRODUCTS.length - prodCreated} replaced)`);

  // Stock
  const records = stockRecords(new Set(PRODUCTS.map((p) => p.sku)));
  const stockResults = await pool(records, CONCURRENCY, async ({ sku, location_id, quantity }) => {
    const { headers, json } = await api('POST', `/v1/stock/${enc(sku)}/adjustments`, {
      body: { location_id, kind: 'set', quantity, reason: 'recount', note: 'demo data' },
      headers: { 'idempotency-key': `demo-${sku}-${location_id}` },
      expect: [201],
    });
    if (json?.stock?.location_id !== location_id || json?.adjustment?.on_hand_after !== quantity) {
      throw new ApiError(`POST /v1/stock/${sku}/adjustments answered unexpectedly:\n  ${JSON.stringify(json)}`);
    }
    return headers.get('idempotent-replayed') === 'true';
  });
  const replayed = stockResults.filter(Boolean).length;
  const units = records.reduce((n, r) => n + r.quantity, 0);
  console.log(`  stock:     ${records.length} records, ${units} units (${records.length - replayed} set, ${replayed} replayed)`);

  // API keys (sequential: few, and never issue the same one twice)
  const { json: keyList } = await api('GET', '/v1/api-keys', { expect: [200] });
  const keyLines = [];
  for (const spec of API_KEYS) {
    const existing = (keyList.items || []).find((k) => k.label === spec.label && !k.revoked_at);
    const what = spec.role === 'store' ? `store key for ${spec.location_id}` : `storefront key for channel ${spec.channel}`;
    if (existing) {
      keyLines.push(`  ${what} "${spec.label}": already issued (${existing.id}); its secret cannot be read again`);
      continue;
    }
    const { json } = await api('POST', '/v1/api-keys', { body: spec, expect: [201], retrySafe: false });
    if (!json?.secret) throw new ApiError(`POST /v1/api-keys answered without a secret:\n  ${JSON.stringify(json)}`);
    keyLines.push(`  ${what} "${spec.label}": ${json.secret}  (${json.id})`);
  }

  // Sanity check: the server sees what we loaded.
  const { json: trail } = await api('GET', '/v1/products?style=TRAIL', { expect: [200] });
  const trailSkus = new Set((trail.items || []).map((p) => p.sku));
  if (!trailSkus.has('TRAIL-BLK-42')) throw new ApiError(`GET /v1/products?style=TRAIL lacks TRAIL-BLK-42:\n  ${JSON.stringify(trail)}`);

  const kalver = LOCATIONS.find((l) => l.id === 'ams-kalverstraat');
  const near = `${kalver.latitude},${kalver.longitude}`;
  const auth = `-H "Authorization: Bearer $OMNIEDGE_KEY"`;
  console.log(`
API keys:
${keyLines.join('\n')}

Try it (OMNIEDGE_KEY=<any of the keys above, or the admin key>):
  # where is the Trail Runner black 42 available for pickup within 5 km of Kalverstraat?
  curl -s ${auth} '${BASE}/v1/stock/TRAIL-BLK-42?near=${near}&radius_km=5&pickup=true'
  # scanned the box: every color/size of the style, with stock near Kalverstraat
  curl -s ${auth} '${BASE}/v1/stock/TRAIL-BLK-42/style?near=${near}&radius_km=10'
  # batch lookup for a cart
  curl -s ${auth} -H 'Content-Type: application/json' '${BASE}/v1/stock/lookup' \\
    -d '{"skus":["TRAIL-BLK-42","HOODIE-BLK-M","TEE-WHT-L"],"near":{"latitude":${kalver.latitude},"longitude":${kalver.longitude}},"radius_km":15}'`);
}

main().catch((err) => {
  console.error(`\ndemo-data failed: ${err instanceof ApiError ? err.message : err.stack || err}`);
  process.exit(1);
});
