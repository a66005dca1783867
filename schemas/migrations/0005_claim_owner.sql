-- Who holds a pending Idempotency-Key claim: a placement writes its order only while it
-- still owns the claim, so a slow placement whose claim a retry took over writes nothing
-- (one key, one order, however long the first attempt takes).
ALTER TABLE idempotency_records ADD COLUMN owner TEXT NOT NULL DEFAULT '';
