//! The stock ledger's rows in the stock object's SQLite: `levels` (per-location totals),
//! `holds` (one row per hold, indexed by reference, expiry and placement time) and
//! `commitments` (one row per order). Every query goes through an index, so a command
//! costs the same at ten holds and at fifty thousand. Times are stored as epoch
//! milliseconds. A ledger written before its rows existed (one JSON value) is moved
//! into rows on first touch (`migrate`), in one synchronous step.

use chrono::{DateTime, Utc};
use omniedge::inventory::ledger::{Allocation, Commitment, Hold, HoldRef, Level, OrderRef};
use omniedge::inventory::rows::LedgerRows;
use omniedge::shared::ids::LocationId;
use omniedge::shared::quantity::PositiveQuantity;
use serde::Deserialize;
use std::collections::BTreeMap;
use worker::{Error, Result, SqlStorage, SqlStorageValue};

/// The tables, created when missing.
pub const SCHEMA: [&str; 6] = [
    "CREATE TABLE IF NOT EXISTS levels (
        location_id TEXT PRIMARY KEY,
        on_hand INTEGER NOT NULL,
        committed INTEGER NOT NULL,
        held INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS holds (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        reference TEXT NOT NULL,
        location_id TEXT NOT NULL,
        quantity INTEGER NOT NULL,
        placed_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        UNIQUE (reference, location_id))",
    "CREATE INDEX IF NOT EXISTS holds_by_expiry ON holds (expires_at)",
    "CREATE INDEX IF NOT EXISTS holds_by_placement ON holds (location_id, placed_at, seq)",
    // What became of each order's units: one row per order, kept after it is settled
    // so that a late or repeated command finds it done.
    "CREATE TABLE IF NOT EXISTS commitments (order_ref TEXT PRIMARY KEY, state TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)",
];

pub struct SqlRows<'a> {
    pub sql: &'a SqlStorage,
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

#[derive(Deserialize)]
struct HoldRow {
    reference: String,
    location_id: String,
    quantity: i64,
    placed_at: i64,
    expires_at: i64,
}

impl HoldRow {
    fn hold(self) -> Result<Hold> {
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
    fn rows<T: for<'de> Deserialize<'de>>(&self, query: &str, binds: Vec<SqlStorageValue>) -> Result<Vec<T>> {
        self.sql.exec(query, Some(binds))?.to_array()
    }

    fn holds(&self, query: &str, binds: Vec<SqlStorageValue>) -> Result<Vec<Hold>> {
        self.rows::<HoldRow>(query, binds)?.into_iter().map(HoldRow::hold).collect()
    }

    /// Moves a ledger stored as one JSON value (before rows) into rows, once.
    pub fn migrate(&mut self) -> Result<()> {
        #[derive(Deserialize)]
        struct Body {
            body: String,
        }
        #[derive(Deserialize, Default)]
        struct OldLevel {
            on_hand: u32,
            committed: u32,
        }
        #[derive(Deserialize)]
        struct OldLedger {
            levels: BTreeMap<LocationId, OldLevel>,
            holds: Vec<Hold>,
            #[serde(default)]
            commitments: BTreeMap<String, Vec<Allocation>>,
        }
        let Some(row) = self.rows::<Body>("SELECT body FROM ledger WHERE id = 1", vec![])?.into_iter().next() else { return Ok(()) };
        let old: OldLedger = serde_json::from_str(&row.body)?;
        let mut held: BTreeMap<&LocationId, u32> = BTreeMap::new();
        for hold in &old.holds {
            *held.entry(&hold.location_id).or_default() += hold.quantity.get();
            self.insert_hold(hold)?;
        }
        for (at, level) in &old.levels {
            let held = held.get(at).copied().unwrap_or(0);
            self.put_level(at, Level { on_hand: level.on_hand, committed: level.committed, held })?;
        }
        for (order, allocations) in old.commitments {
            self.put_commitment(&OrderRef(order), &Commitment::Committed { allocations })?;
        }
        self.sql.exec("DELETE FROM ledger WHERE id = 1", None)?;
        Ok(())
    }
}

impl LedgerRows for SqlRows<'_> {
    type Error = Error;

    fn levels(&self) -> Result<Vec<(LocationId, Level)>> {
        self.rows::<LevelRow>("SELECT location_id, on_hand, committed, held FROM levels ORDER BY location_id", vec![])?
            .into_iter()
            .map(|r| Ok((location(&r.location_id)?, Level { on_hand: r.on_hand, committed: r.committed, held: r.held })))
            .collect()
    }

    fn level(&self, at: &LocationId) -> Result<Option<Level>> {
        let rows = self.rows::<LevelRow>("SELECT location_id, on_hand, committed, held FROM levels WHERE location_id = ?", vec![at.as_str().into()])?;
        Ok(rows.into_iter().next().map(|r| Level { on_hand: r.on_hand, committed: r.committed, held: r.held }))
    }

    fn put_level(&mut self, at: &LocationId, level: Level) -> Result<()> {
        self.sql.exec(
            "INSERT INTO levels (location_id, on_hand, committed, held) VALUES (?, ?, ?, ?)
             ON CONFLICT(location_id) DO UPDATE SET on_hand = excluded.on_hand, committed = excluded.committed, held = excluded.held",
            Some(vec![at.as_str().into(), (level.on_hand as i64).into(), (level.committed as i64).into(), (level.held as i64).into()]),
        )?;
        Ok(())
    }

    fn holds_of(&self, reference: &HoldRef) -> Result<Vec<Hold>> {
        self.holds(&format!("SELECT {HOLD_COLUMNS} FROM holds WHERE reference = ?"), vec![reference.0.as_str().into()])
    }

    fn insert_hold(&mut self, hold: &Hold) -> Result<()> {
        self.sql.exec(
            &format!("INSERT INTO holds ({HOLD_COLUMNS}) VALUES (?, ?, ?, ?, ?)"),
            Some(vec![
                hold.reference.0.as_str().into(),
                hold.location_id.as_str().into(),
                (hold.quantity.get() as i64).into(),
                millis(hold.placed_at).into(),
                millis(hold.expires_at).into(),
            ]),
        )?;
        Ok(())
    }

    fn delete_hold(&mut self, reference: &HoldRef, at: &LocationId) -> Result<()> {
        self.sql.exec("DELETE FROM holds WHERE reference = ? AND location_id = ?", Some(vec![reference.0.as_str().into(), at.as_str().into()]))?;
        Ok(())
    }

    fn newest_live_hold_at(&self, at: &LocationId, now: DateTime<Utc>) -> Result<Option<Hold>> {
        let query = format!("SELECT {HOLD_COLUMNS} FROM holds WHERE location_id = ? AND expires_at > ? ORDER BY placed_at DESC, seq DESC LIMIT 1");
        Ok(self.holds(&query, vec![at.as_str().into(), millis(now).into()])?.into_iter().next())
    }

    fn lapsed(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Hold>> {
        let query = format!("SELECT {HOLD_COLUMNS} FROM holds WHERE expires_at <= ? ORDER BY expires_at, seq LIMIT ?");
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
        self.rows::<Units>("SELECT location_id, SUM(quantity) AS units FROM holds INDEXED BY holds_by_expiry WHERE expires_at <= ? GROUP BY location_id", vec![millis(now).into()])?
            .into_iter()
            .map(|u| Ok((location(&u.location_id)?, u.units)))
            .collect()
    }

    fn next_expiry(&self) -> Result<Option<DateTime<Utc>>> {
        #[derive(Deserialize)]
        struct Next {
            at: Option<i64>,
        }
        let next = self.rows::<Next>("SELECT MIN(expires_at) AS at FROM holds", vec![])?.into_iter().next().and_then(|n| n.at);
        next.map(time).transpose()
    }

    fn commitment(&self, order: &OrderRef) -> Result<Option<Commitment>> {
        #[derive(Deserialize)]
        struct State {
            state: String,
        }
        let rows = self.rows::<State>("SELECT state FROM commitments WHERE order_ref = ?", vec![order.0.as_str().into()])?;
        Ok(rows.into_iter().next().map(|r| serde_json::from_str(&r.state)).transpose()?)
    }

    fn put_commitment(&mut self, order: &OrderRef, commitment: &Commitment) -> Result<()> {
        self.sql.exec(
            "INSERT INTO commitments (order_ref, state) VALUES (?, ?) ON CONFLICT(order_ref) DO UPDATE SET state = excluded.state",
            Some(vec![order.0.as_str().into(), serde_json::to_string(commitment)?.into()]),
        )?;
        Ok(())
    }

    fn delete_commitment(&mut self, order: &OrderRef) -> Result<()> {
        self.sql.exec("DELETE FROM commitments WHERE order_ref = ?", Some(vec![order.0.as_str().into()]))?;
        Ok(())
    }
}
