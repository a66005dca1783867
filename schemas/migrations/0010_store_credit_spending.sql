-- Store credit spent at checkout in every channel. The balance per customer and currency
-- is kept in step with every movement (issued by a refund, spent by an order, given back
-- when that order is cancelled), so a checkout checks and spends it in its own write at a
-- constant cost, and the CHECK refuses any write that would take it below zero.
CREATE TABLE store_credit_balances (
    customer_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance_e4 INTEGER NOT NULL CHECK (balance_e4 >= 0),  -- ten-thousandths of the currency unit
    PRIMARY KEY (customer_id, currency)
);

-- Credit issued before this migration (amounts carry at most 4 decimals: exact in e4).
INSERT INTO store_credit_balances (customer_id, currency, balance_e4)
SELECT customer_id, currency, SUM(CAST(ROUND(CAST(amount AS REAL) * 10000) AS INTEGER))
FROM store_credit_entries GROUP BY customer_id, currency;

-- What each order spent; given back once, when the order is cancelled.
CREATE TABLE store_credit_spent (
    order_id TEXT PRIMARY KEY REFERENCES orders (id),
    customer_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_e4 INTEGER NOT NULL CHECK (amount_e4 > 0),
    -- Read in the same write: NULL (no credit ever) or less than spent refuses the order.
    balance_before_e4 INTEGER NOT NULL CHECK (balance_before_e4 >= amount_e4),
    spent_at TEXT NOT NULL,
    given_back_at TEXT
);
