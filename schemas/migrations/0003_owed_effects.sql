-- One effects mechanism (issue: flows that always converge). A flow writes its D1
-- change and the effects it still owes to the Durable Objects in one batch; effects are
-- crossed off (deleted) once applied. `orders.revision` changes with every write of an
-- order, so a status change names the revision it read and loses to any write between.

CREATE TABLE owed_effects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- an order's effects apply in this order
    order_id TEXT NOT NULL REFERENCES orders (id),
    effect TEXT NOT NULL,                   -- the Effect document (kind, sku, order, ...)
    created_at TEXT NOT NULL
);
CREATE INDEX owed_effects_by_order ON owed_effects (order_id, seq);

ALTER TABLE orders ADD COLUMN revision TEXT NOT NULL DEFAULT '';

-- Orders written by a placement that died before committing their stock owe that commit
-- (and an in-store sale its hand-over): the sweeper settles them like any other effect.
INSERT INTO owed_effects (order_id, effect, created_at)
SELECT o.id,
       json_object('kind', 'commit_stock', 'sku', a.sku, 'order', 'order:' || o.id,
                   'hold', CASE WHEN o.cart_id IS NULL THEN 'order:' || o.id ELSE 'cart:' || o.cart_id END,
                   'allocations', json_group_array(json_object('location_id', a.location_id, 'quantity', a.quantity))),
       o.created_at
FROM orders o, (SELECT o2.id AS order_id,
                       json_extract(l.value, '$.sku') AS sku,
                       json_extract(l.value, '$.location_id') AS location_id,
                       json_extract(l.value, '$.quantity') AS quantity
                FROM orders o2, json_each(o2.body, '$.allocations') l
                WHERE o2.stock_committed = 0 AND o2.status <> 'cancelled') a
WHERE a.order_id = o.id
GROUP BY o.id, a.sku;

INSERT INTO owed_effects (order_id, effect, created_at)
SELECT o.id, json_object('kind', 'hand_over', 'sku', json_extract(l.value, '$.sku'), 'order', 'order:' || o.id), o.created_at
FROM orders o, json_each(o.body, '$.allocations') l
WHERE o.stock_committed = 0 AND o.status <> 'cancelled' AND json_extract(o.body, '$.fulfilment.type') = 'in_store'
GROUP BY o.id, json_extract(l.value, '$.sku');

-- What an order owes is in owed_effects now.
ALTER TABLE orders DROP COLUMN stock_committed;
