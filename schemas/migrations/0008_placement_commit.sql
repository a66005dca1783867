-- A placement takes each SKU's units (held and committed in one stock call) before it
-- writes its order. What the order owes should it never be written (every SKU's units
-- voided) is recorded with the placement's claim, before any units are taken: the claim
-- names the order being placed, and owed effects may be owed by an order not yet
-- written, so the table is rebuilt without its reference to orders. Writing the order
-- forgives them; once the claim goes to a retry, is let go, or is older than the
-- placement hold (then the sweeper revokes it), the sweeper applies them.
ALTER TABLE idempotency_records ADD COLUMN order_id TEXT;
CREATE INDEX idempotency_records_by_order ON idempotency_records (order_id) WHERE order_id IS NOT NULL;

CREATE TABLE owed_effects_v3 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT,
    cart_id TEXT,
    effect TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK ((order_id IS NULL) <> (cart_id IS NULL))
);
INSERT INTO owed_effects_v3 (seq, order_id, cart_id, effect, created_at)
    SELECT seq, order_id, cart_id, effect, created_at FROM owed_effects;
DROP TABLE owed_effects;
ALTER TABLE owed_effects_v3 RENAME TO owed_effects;
CREATE INDEX owed_effects_by_order ON owed_effects (order_id, seq);
CREATE INDEX owed_effects_by_cart ON owed_effects (cart_id, seq);
