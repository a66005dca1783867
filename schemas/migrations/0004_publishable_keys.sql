-- Publishable keys (issue: storefronts in the browser): a fourth role, bound to a channel
-- and to the web origins allowed to use it. SQLite cannot change a CHECK, so the table is
-- rebuilt with its rows.

CREATE TABLE api_keys_v2 (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE, -- SHA-256 of the secret; the secret itself is never stored
    role TEXT NOT NULL CHECK (role IN ('admin', 'store', 'storefront', 'publishable')),
    label TEXT NOT NULL,
    location_id TEXT REFERENCES locations (id),
    channel TEXT,
    allowed_origins TEXT,          -- JSON array of origins, publishable keys only
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    CHECK ((role = 'store') = (location_id IS NOT NULL)),
    CHECK ((role IN ('storefront', 'publishable')) = (channel IS NOT NULL)),
    CHECK ((role = 'publishable') = (allowed_origins IS NOT NULL))
);
INSERT INTO api_keys_v2 (id, key_hash, role, label, location_id, channel, created_at, revoked_at)
    SELECT id, key_hash, role, label, location_id, channel, created_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v2 RENAME TO api_keys;
-- CORS preflights ask whether any live publishable key allows an origin.
CREATE INDEX api_keys_live_publishable ON api_keys (role, revoked_at);
