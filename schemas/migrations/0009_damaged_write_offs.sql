-- Damaged units written off (issue: returns, "written off by adjustment later"). A
-- location's damaged count of a SKU is what its returns received damaged there
-- (return_lines) less what was written off here; a write-off never takes it below zero
-- (its insert is guarded by that count, in the same statement).
CREATE TABLE damaged_write_offs (
    id TEXT PRIMARY KEY,
    location_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    reason TEXT NOT NULL,
    by_key TEXT NOT NULL,               -- the key that wrote it off
    at TEXT NOT NULL,
    body TEXT NOT NULL                  -- the WriteOff document as served
);
CREATE INDEX damaged_write_offs_by_location ON damaged_write_offs (location_id, sku, at);
