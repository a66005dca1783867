//! A SKU's ledger rows in its style's stock object (SQLite): `stock_levels` (per-location
//! totals), `stock_holds` (one row per hold, indexed by reference, expiry and placement
//! time) and `stock_commitments` (one row per order), every row keyed by its SKU first.
//! Every query goes through an index, so a command costs the same at ten holds and at
//! fifty thousand, and whatever the style's other SKUs hold. Times are stored as epoch
//! milliseconds.

use chrono::{DateTime, Utc};
use omniedge::inventory::ledger::{Commitment, Hold, HoldRef, Level, OrderRef};
use omniedge::inventory::rows::LedgerRows;
use omniedge::shared::ids::LocationId;
use omniedge::shared::quantity::PositiveQuantity;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use worker::{Error, Result, SqlStorage, SqlStorageValue};

/// The tables of a style's stock object, created when missing. Every row names its SKU,
/// and every index leads with it, so one SKU's commands never read another's rows.
pub const SCHEMA: [&str; 10] = [
    "CREATE TABLE IF NOT EXISTS stock_levels (
        sku TEXT NOT NULL,
        location_id TEXT NOT NULL,
        on_hand INTEGER NOT NULL,
        committed INTEGER NOT NULL,
        held INTEGER NOT NULL,
        PRIMARY KEY (sku, location_id))",
    "CREATE TABLE IF NOT EXISTS stock_holds (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sku TEXT NOT NULL,
        reference TEXT NOT NULL,
        location_id TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        placed_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        UNIQUE (sku, reference, location_id))",
    "CREATE INDEX IF NOT EXISTS stock_holds_by_expiry ON stock_holds (sku, expires_at)",
    // The alarm's: the earliest expiry of any SKU of the style.
    "CREATE INDEX IF NOT EXISTS stock_holds_by_any_expiry ON stock_holds (expires_at)",
    "CREATE INDEX IF NOT EXISTS stock_holds_by_placement ON stock_holds (sku, location_id, placed_at, seq)",
    // What became of each order's units: one row per SKU and order, kept after it is
    // settled so that a late or repeated command finds it done.
    "CREATE TABLE IF NOT EXISTS stock_commitments (sku TEXT NOT NULL, order_ref TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (sku, order_ref))",
    // The SKUs whose ledger this object keeps (taken over from the SKU's own object of
    // before styles, `stock_legacy`, on first touch).
    "CREATE TABLE IF NOT EXISTS stock_skus (sku TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS stock_adjustments (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        sku TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        location_id TEXT NOT NULL,
        record TEXT NOT NULL,
        reply TEXT NOT NULL,
        UNIQUE (sku, idempotency_key))",
    "CREATE INDEX IF NOT EXISTS stock_adjustments_by_sku ON stock_adjustments (sku, seq)",
    "CREATE INDEX IF NOT EXISTS stock_adjustments_by_location ON stock_adjustments (sku, location_id, seq)",
];

/// One SKU's rows among its style's.
pub struct SqlRows<'a> {
    pub sql: &'a SqlStorage,
    pub sku: &'a str,
    /// The earliest expiry of the holds inserted through these rows (epoch ms), for the
    /// object's alarm.
    pub earliest_insert: &'a Cell<Option<i64>>,
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| Error::RustError(format!("stored time {ms} out of range")))
}

fn location(id: &str) -> Result<LocationId> {
    LocationId::parse(id).map_err(|e| Error::RustError(format!("stored location id: {e}")))
}

/// A hold as stored (also in the tables of before styles, `stock_legacy`).
#[derive(Deserialize)]
pub struct HoldRow {
    reference: String,
    location_id: String,
    quantity: i64,
    placed_at: i64,
    expires_at: i64,
}

impl HoldRow {
    pub fn hold(self) -> Result<Hold> {
        Ok(Hold {
            reference: HoldRef(self.reference),
            location_id: location(&self.location_id)?,
            quantity: PositiveQuantity::new(self.quantity).map_err(|e| Error::RustError(format!("stored quantity: {e}")))?,
            placed_at: time(self.placed_at)?,
            expires_at: time(self.expires_at)?,
        })
    }
}

#[derive(Deserialize)]
struct LevelRow {
    location_id: String,
    on_hand: u32,
    committed: u32,
    held: u32,
}

const HOLD_COLUMNS: &str = "reference, location_id, quantity, placed_at, expires_at";

impl SqlRows<'_> {
    /// Rows of a query whose first bind is this SKU.
    fn rows<T: for<'de> Deserialize<'de>>(&self, query: &str, binds: Vec<SqlStorageValue>) -> Result<Vec<T>> {
        let binds = std::iter::once(self.sku.into()).chain(binds).collect();
        self.sql.exec(query, Some(binds))?.to_array()
    }

    fn exec(&self, query: &str, binds: Vec<SqlStorageValue>) -> Result<()> {
        let binds = std::iter::once(self.sku.into()).chain(binds).collect();
        self.sql.exec(query, Some(binds))?;
        Ok(())
    }

    fn holds(&self, query: &str, binds: Vec<SqlStorageValue>) -> Result<Vec<Hold>> {
        self.rows::<HoldRow>(query, binds)?.into_iter().map(HoldRow::hold).collect()
    }
}

/// An adjustment as kept for its list and its Idempotency-Key (also in the tables of
/// before styles, `stock_legacy`).
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredAdjustment {
    pub idempotency_key: String,
    pub fingerprint: String,
    pub location_id: String,
    /// The `AdjustmentRecord`, as JSON.
    pub record: String,
    /// The first answer, replayed for the same key and body.
    pub reply: String,
}

/// What an Idempotency-Key of an adjustment was first used with, and answered.
#[derive(Deserialize)]
pub struct KeyedAdjustment {
    pub fingerprint: String,
    pub reply: String,
}

/// A recorded adjustment in its list: its place (the list's cursor) and its record.
#[derive(Deserialize)]
pub struct ListedAdjustment {
    pub seq: i64,
    /// The `AdjustmentRecord`, as JSON.
    pub record: String,
}

impl SqlRows<'_> {
    /// Records an adjustment of this SKU (after every earlier one).
    pub fn insert_adjustment(&self, a: StoredAdjustment) -> Result<()> {
        self.exec(
            "INSERT INTO stock_adjustments (sku, idempotency_key, fingerprint, location_id, record, reply) VALUES (?, ?, ?, ?, ?, ?)",
            vec![a.idempotency_key.into(), a.fingerprint.into(), a.location_id.into(), a.record.into(), a.reply.into()],
        )
    }

    /// The adjustment of this SKU recorded under an Idempotency-Key, if any.
    pub fn adjustment_by_key(&self, key: &str) -> Result<Option<KeyedAdjustment>> {
        Ok(self.rows("SELECT fingerprint, reply FROM stock_adjustments WHERE sku = ? AND idempotency_key = ?", vec![key.into()])?.into_iter().next())
    }

    /// Up to `limit` of this SKU's adjustments recorded before `before` (a `seq`), at one
    /// location or all, newest first.
    pub fn adjustments(&self, location: Option<&LocationId>, before: i64, limit: i64) -> Result<Vec<ListedAdjustment>> {
        match location {
            Some(at) => self.rows(
                "SELECT seq, record FROM stock_adjustments WHERE sku = ? AND location_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                vec![at.as_str().into(), before.into(), limit.into()],
            ),
            None => self.rows("SELECT seq, record FROM stock_adjustments WHERE sku = ? AND seq < ? ORDER BY seq DESC LIMIT ?", vec![before.into(), limit.into()]),
        }
    }
}

impl LedgerRows for SqlRows<'_> {
    type Error = Error;

    fn levels(&self) -> Result<Vec<(LocationId, Level)>> {
        self.rows::<LevelRow>("SELECT location_id, on_hand, committed, held FROM stock_levels WHERE sku = ? ORDER BY location_id", vec![])?
            .into_iter()
            .map(|r| Ok((location(&r.location_id)?, Level { on_hand: r.on_hand, committed: r.committed, held: r.held })))
            .collect()
    }

    fn level(&self, at: &LocationId) -> Result<Option<Level>> {
        let rows = self.rows::<LevelRow>("SELECT location_id, on_hand, committed, held FROM stock_levels WHERE sku = ? AND location_id = ?", vec![at.as_str().into()])?;
        Ok(rows.into_iter().next().map(|r| Level { on_hand: r.on_hand, committed: r.committed, held: r.held }))
    }

    fn put_level(&mut self, at: &LocationId, level: Level) -> Result<()> {
        self.exec(
            "INSERT INTO stock_levels (sku, location_id, on_hand, committed, held) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(sku, location_id) DO UPDATE SET on_hand = excluded.on_hand, committed = excluded.committed, held = excluded.held",
            vec![at.as_str().into(), (level.on_hand as i64).into(), (level.committed as i64).into(), (level.held as i64).into()],
        )
    }

    fn holds_of(&self, reference: &HoldRef) -> Result<Vec<Hold>> {
        self.holds(&format!("SELECT {HOLD_COLUMNS} FROM stock_holds WHERE sku = ? AND reference = ?"), vec![reference.0.as_str().into()])
    }

    fn insert_hold(&mut self, hold: &Hold) -> Result<()> {
        let expires_at = millis(hold.expires_at);
        self.earliest_insert.set(Some(self.earliest_insert.get().map_or(expires_at, |e| e.min(expires_at))));
        self.exec(
            &format!("INSERT INTO stock_holds (sku, {HOLD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"),
            vec![
                hold.reference.0.as_str().into(),
                hold.location_id.as_str().into(),
                (hold.quantity.get() as i64).into(),
                millis(hold.placed_at).into(),
                millis(hold.expires_at).into(),
            ],
        )
    }

    fn delete_hold(&mut self, reference: &HoldRef, at: &LocationId) -> Result<()> {
        self.exec("DELETE FROM stock_holds WHERE sku = ? AND reference = ? AND location_id = ?", vec![reference.0.as_str().into(), at.as_str().into()])
    }

    fn newest_live_holds_at(&self, at: &LocationId, now: DateTime<Utc>, limit: usize) -> Result<Vec<Hold>> {
        // Without INDEXED BY, SQLite picks the expiry index for `expires_at > ?` and sorts
        // every live hold of the SKU: O(holds) per page, O(holds²) for a recount.
        let query = format!(
            "SELECT {HOLD_COLUMNS} FROM stock_holds INDEXED BY stock_holds_by_placement
             WHERE sku = ? AND location_id = ? AND expires_at > ? ORDER BY placed_at DESC, seq DESC LIMIT ?"
        );
        self.holds(&query, vec![at.as_str().into(), millis(now).into(), (limit.min(i64::MAX as usize) as i64).into()])
    }

    fn lapsed(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Hold>> {
        let query = format!("SELECT {HOLD_COLUMNS} FROM stock_holds WHERE sku = ? AND expires_at <= ? ORDER BY expires_at, seq LIMIT ?");
        self.holds(&query, vec![millis(now).into(), (limit.min(i64::MAX as usize) as i64).into()])
    }

    fn lapsed_units(&self, now: DateTime<Utc>) -> Result<Vec<(LocationId, u32)>> {
        #[derive(Deserialize)]
        struct Units {
            location_id: String,
            units: u32,
        }
        // Without INDEXED BY, SQLite satisfies the GROUP BY by scanning every hold in
        // location order: O(holds) on every command.
        self.rows::<Units>("SELECT location_id, SUM(quantity) AS units FROM stock_holds INDEXED BY stock_holds_by_expiry WHERE sku = ? AND expires_at <= ? GROUP BY location_id", vec![millis(now).into()])?
            .into_iter()
            .map(|u| Ok((location(&u.location_id)?, u.units)))
            .collect()
    }

    fn next_expiry(&self) -> Result<Option<DateTime<Utc>>> {
        #[derive(Deserialize)]
        struct Next {
            at: Option<i64>,
        }
        let next = self.rows::<Next>("SELECT MIN(expires_at) AS at FROM stock_holds WHERE sku = ?", vec![])?.into_iter().next().and_then(|n| n.at);
        next.map(time).transpose()
    }

    fn commitment(&self, order: &OrderRef) -> Result<Option<Commitment>> {
        #[derive(Deserialize)]
        struct State {
            state: String,
        }
        let rows = self.rows::<State>("SELECT state FROM stock_commitments WHERE sku = ? AND order_ref = ?", vec![order.0.as_str().into()])?;
        Ok(rows.into_iter().next().map(|r| serde_json::from_str(&r.state)).transpose()?)
    }

    fn put_commitment(&mut self, order: &OrderRef, commitment: &Commitment) -> Result<()> {
        self.exec(
            "INSERT INTO stock_commitments (sku, order_ref, state) VALUES (?, ?, ?) ON CONFLICT(sku, order_ref) DO UPDATE SET state = excluded.state",
            vec![order.0.as_str().into(), serde_json::to_string(commitment)?.into()],
        )
    }

    fn delete_commitment(&mut self, order: &OrderRef) -> Result<()> {
        self.exec("DELETE FROM stock_commitments WHERE sku = ? AND order_ref = ?", vec![order.0.as_str().into()])
    }
}
