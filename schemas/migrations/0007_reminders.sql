-- Cart-abandonment reminders (issue 10): consents, push subscriptions, unsubscribes,
-- one delivery per cart and step (its key recorded before the send), the log of every
-- decision and event, and owed effects that a cart (not an order) owes.

-- Marketing consent per channel, on a customer or a guest cart; the newest record decides.
CREATE TABLE marketing_consents (
    id TEXT PRIMARY KEY,
    customer_id TEXT,
    cart_id TEXT,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
    source TEXT NOT NULL,          -- the caller's sales channel, back_office or unsubscribe_link
    recorded_at TEXT NOT NULL,
    CHECK (customer_id IS NOT NULL OR cart_id IS NOT NULL)
);
CREATE INDEX consents_by_customer ON marketing_consents (customer_id, channel, recorded_at);
CREATE INDEX consents_by_cart ON marketing_consents (cart_id, channel, recorded_at);

-- A browser's PushSubscription (one per endpoint: registering it again moves it).
CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    cart_id TEXT,
    customer_id TEXT,
    device TEXT,
    created_at TEXT NOT NULL,
    CHECK (cart_id IS NOT NULL OR customer_id IS NOT NULL)
);
CREATE INDEX push_subscriptions_by_cart ON push_subscriptions (cart_id);
CREATE INDEX push_subscriptions_by_customer ON push_subscriptions (customer_id);

-- Addresses that unsubscribed from reminders on a channel (the one-click link).
CREATE TABLE reminder_unsubscribes (
    channel TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    address TEXT NOT NULL,         -- the email address
    unsubscribed_at TEXT NOT NULL,
    PRIMARY KEY (channel, address)
);

-- At most one delivery per cart and step: the row is the delivery key, written before
-- anything is sent; its state moves queued -> sending -> sent | retrying | failed.
-- `shopper` is who the frequency cap counts for (customer, email address or browser).
CREATE TABLE reminder_deliveries (
    cart_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    shopper TEXT NOT NULL,
    address TEXT,                  -- the email address (email steps)
    state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'retrying', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    cause TEXT,                    -- why it failed (or is being retried)
    claim TEXT NOT NULL,           -- the token of the decision that claimed the key
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (cart_id, step)
);
CREATE INDEX reminder_deliveries_by_shopper ON reminder_deliveries (shopper, channel, created_at);

-- Every decision and event per cart and step: skipped (reason), queued, retrying
-- (cause), sent, failed (cause), shown, clicked.
CREATE TABLE reminder_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    cart_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    event TEXT NOT NULL CHECK (event IN ('skipped', 'queued', 'retrying', 'sent', 'failed', 'shown', 'clicked')),
    detail TEXT,                   -- the skip reason or failure cause
    at TEXT NOT NULL
);
CREATE INDEX reminder_log_by_cart ON reminder_log (cart_id, seq);
CREATE INDEX reminder_log_by_time ON reminder_log (at);

-- Owed effects may be owed by a cart (a reminder to hand to the delivery queue) as well
-- as by an order. SQLite cannot relax NOT NULL, so the table is rebuilt with its rows.
CREATE TABLE owed_effects_v2 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT REFERENCES orders (id),
    cart_id TEXT,
    effect TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK ((order_id IS NULL) <> (cart_id IS NULL))
);
INSERT INTO owed_effects_v2 (seq, order_id, cart_id, effect, created_at)
    SELECT seq, order_id, NULL, effect, created_at FROM owed_effects;
DROP TABLE owed_effects;
ALTER TABLE owed_effects_v2 RENAME TO owed_effects;
CREATE INDEX owed_effects_by_order ON owed_effects (order_id, seq);
CREATE INDEX owed_effects_by_cart ON owed_effects (cart_id, seq);
