-- A write-off checks the damaged units of one SKU at one location: received damaged
-- there (return_lines) less written off there (damaged_write_offs, already indexed by
-- location and SKU). This index makes the first half a lookup by location and SKU too,
-- so a write-off's cost does not grow with the location's other damaged units.
CREATE INDEX return_lines_damaged_by_sku ON return_lines (received_location_id, sku, condition);
