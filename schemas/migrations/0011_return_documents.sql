-- Return documents written before exchanges could differ in price lack two members the
-- Return type now requires. Then every line refunded exactly what was paid for it (an
-- exchange line refunded nothing, its replacement being of the same price), so a line's
-- `paid` is its `refund` where it was no exchange, and an exchange line's `paid` is not
-- known and taken as its refund too (shown only; nothing is computed from it once a
-- return is open); a replacement's `balance_due` was zero.
UPDATE returns SET body = json_set(body, '$.lines', (
    SELECT json_group_array(CASE WHEN json_type(value, '$.paid') IS NULL
                                 THEN json_set(value, '$.paid', json_extract(value, '$.refund'))
                                 ELSE json(value) END)
    FROM json_each(returns.body, '$.lines')))
WHERE EXISTS (SELECT 1 FROM json_each(returns.body, '$.lines') WHERE json_type(value, '$.paid') IS NULL);

UPDATE returns SET body = json_set(body, '$.replacement.balance_due',
    json_object('amount', CASE json_extract(body, '$.replacement.lines[0].unit_price.currency')
                               WHEN 'JPY' THEN '0' ELSE '0.00' END,
                'currency', json_extract(body, '$.replacement.lines[0].unit_price.currency')))
WHERE json_type(body, '$.replacement') = 'object' AND json_type(body, '$.replacement.balance_due') IS NULL;
