-- Foundation: locations, catalog and API keys. Stock lives in the per-SKU Durable Objects.

CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('store', 'warehouse', 'pickup_point')),
    body TEXT NOT NULL,            -- the Location document as served
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX locations_by_kind ON locations (kind, id);

CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    style TEXT NOT NULL,
    body TEXT NOT NULL,            -- the Product document as served
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX products_by_style ON products (style, sku);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the secret; the secret itself is never stored
    role TEXT NOT NULL CHECK (role IN ('admin', 'store', 'storefront')),
    label TEXT NOT NULL,
    location_id TEXT REFERENCES locations (id),
    channel TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((role = 'store') = (location_id IS NOT NULL)),
    CHECK ((role = 'storefront') = (channel IS NOT NULL))
);
