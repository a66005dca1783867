-- Carts, orders, customers, coupons and idempotency records (issue: carts and order intake).

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,    -- lower-case: one shopper, one customer
    body TEXT NOT NULL,            -- the Customer document as served
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Index of carts (the cart itself lives in its Durable Object), for customer timelines.
CREATE TABLE carts (
    id TEXT PRIMARY KEY,
    customer_id TEXT,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX carts_by_customer ON carts (customer_id, created_at);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer_id TEXT,
    cart_id TEXT UNIQUE,           -- a cart becomes at most one order, even under racing checkouts
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    pickup_location_id TEXT,       -- set for click & collect, for the store's pickup list
    stock_committed INTEGER NOT NULL DEFAULT 0 CHECK (stock_committed IN (0, 1)),
    body TEXT NOT NULL,            -- the Order document as served
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_by_pickup ON orders (pickup_location_id, status, created_at);

-- Which locations fulfil which orders, so store keys act only on their own.
CREATE TABLE order_locations (
    order_id TEXT NOT NULL REFERENCES orders (id),
    location_id TEXT NOT NULL,
    PRIMARY KEY (order_id, location_id)
);

CREATE TABLE coupons (
    code TEXT PRIMARY KEY,         -- upper-case
    body TEXT NOT NULL,            -- the Coupon document (without the live redemption count)
    max_redemptions INTEGER,       -- NULL: unlimited
    redeemed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- The guard that makes a single-use coupon single-use under racing orders: the
    -- redemption and the order are written in one batch, which this check rolls back.
    CHECK (max_redemptions IS NULL OR redeemed <= max_redemptions)
);

CREATE TABLE coupon_redemptions (
    code TEXT NOT NULL REFERENCES coupons (code),
    order_id TEXT NOT NULL UNIQUE,
    redeemed_at TEXT NOT NULL
);

-- One record per (caller, Idempotency-Key) for calls whose effects span several stores.
CREATE TABLE idempotency_records (
    scope TEXT NOT NULL,           -- the calling key's id and the operation
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,     -- hash of the request body
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    status INTEGER,
    response TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
