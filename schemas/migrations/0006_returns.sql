-- Returns and exchanges (issue: returns from any channel to any location). A return's
-- every write also moves its order's revision on (orders.revision), so two returns of
-- the same units, or two steps of one return, never both land.

CREATE TABLE returns (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders (id),
    customer_id TEXT,
    channel TEXT NOT NULL,              -- the channel that opened it
    status TEXT NOT NULL CHECK (status IN ('requested', 'received', 'refunded', 'rejected', 'cancelled')),
    location_id TEXT NOT NULL,          -- where it is expected
    received_location_id TEXT,          -- where it arrived
    body TEXT NOT NULL,                 -- the Return document as served
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX returns_by_order ON returns (order_id, created_at);
CREATE INDEX returns_by_customer ON returns (customer_id, created_at);
CREATE INDEX returns_by_location ON returns (location_id, status, created_at);
CREATE INDEX returns_by_status ON returns (status, created_at);

-- Each line of a return, and once received its condition where it arrived (damaged
-- units are listed per location from here; they never enter the stock objects).
CREATE TABLE return_lines (
    return_id TEXT NOT NULL REFERENCES returns (id),
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    condition TEXT CHECK (condition IN ('resellable', 'damaged')),
    received_location_id TEXT,
    received_at TEXT,
    PRIMARY KEY (return_id, sku)
);
CREATE INDEX return_lines_damaged ON return_lines (received_location_id, condition, received_at);

-- Every step of a return: what it became, when, and which key did it.
CREATE TABLE return_steps (
    return_id TEXT NOT NULL REFERENCES returns (id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    by_key TEXT NOT NULL,
    PRIMARY KEY (return_id, status)
);

-- Goodwill issued for a return: at most once, whatever retries or races.
CREATE TABLE goodwill_issued (
    return_id TEXT PRIMARY KEY REFERENCES returns (id),
    kind TEXT NOT NULL CHECK (kind IN ('coupon', 'gift')),
    coupon_code TEXT,
    issued_at TEXT NOT NULL
);

-- Store credit: one entry per refund to store credit; the balance is their sum per currency.
CREATE TABLE store_credit_entries (
    customer_id TEXT NOT NULL,
    return_id TEXT NOT NULL UNIQUE REFERENCES returns (id),
    amount TEXT NOT NULL,               -- decimal string, in the currency's minor-unit scale
    currency TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX store_credit_by_customer ON store_credit_entries (customer_id, created_at);
