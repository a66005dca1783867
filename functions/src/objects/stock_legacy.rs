//! Stock as it was kept before styles: each SKU had a stock object of its own, named by
//! the SKU, with tables `levels`, `holds`, `commitments` and `adjustments` (or, earlier
//! still, the whole ledger as one JSON value in `ledger`). A style's object takes a
//! SKU's ledger over from there on the SKU's first touch: it asks the old object for
//! everything it keeps (`read`) and writes it into its own rows (`import`) in one
//! synchronous step, so no count, hold, commitment or adjustment key is lost. The old
//! object is never written again: the worker no longer sends it anything else.

use crate::objects::protocol::ObjectStub;
use crate::objects::stock_rows::{HoldRow, SqlRows, StoredAdjustment};
use omniedge::inventory::ledger::{Allocation, Commitment, Hold, Level, OrderRef};
use omniedge::inventory::rows::LedgerRows;
use omniedge::shared::ids::{LocationId, Sku};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use worker::{Env, Result, SqlStorage};

/// Everything a SKU's old object keeps.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct LegacyLedger {
    pub levels: Vec<(LocationId, Level)>,
    pub holds: Vec<Hold>,
    pub commitments: Vec<(OrderRef, Commitment)>,
    /// In the order they were recorded.
    pub adjustments: Vec<StoredAdjustment>,
}

/// The old tables, as they were created (tests plant ledgers in them).
const LEGACY_SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS levels (location_id TEXT PRIMARY KEY, on_hand INTEGER NOT NULL, committed INTEGER NOT NULL, held INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS holds (seq INTEGER PRIMARY KEY AUTOINCREMENT, reference TEXT NOT NULL, location_id TEXT NOT NULL,
        quantity INTEGER NOT NULL, placed_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, UNIQUE (reference, location_id))",
    "CREATE TABLE IF NOT EXISTS commitments (order_ref TEXT PRIMARY KEY, state TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS adjustments (seq INTEGER PRIMARY KEY AUTOINCREMENT, idempotency_key TEXT NOT NULL UNIQUE,
        fingerprint TEXT NOT NULL, location_id TEXT NOT NULL, record TEXT NOT NULL, reply TEXT NOT NULL)",
];

/// A SKU's stock object of before styles, named by the SKU.
pub fn old_object(env: &Env, sku: &Sku) -> Result<ObjectStub> {
    ObjectStub::named(env, "STOCK", sku.as_str())
}

fn rows<T: for<'de> Deserialize<'de>>(sql: &SqlStorage, query: &str) -> Result<Vec<T>> {
    sql.exec(query, None)?.to_array()
}

/// What a SKU's old object keeps (nothing, for a SKU that never had one).
pub fn read(sql: &SqlStorage) -> Result<LegacyLedger> {
    #[derive(Deserialize)]
    struct Table {
        name: String,
    }
    let tables: Vec<String> = rows::<Table>(sql, "SELECT name FROM sqlite_master WHERE type = 'table'")?.into_iter().map(|t| t.name).collect();
    let has = |name: &str| tables.iter().any(|t| t == name);
    let mut ledger = if has("ledger") { from_json(sql)? } else { None }.unwrap_or_default();
    if ledger.levels.is_empty() && has("levels") {
        ledger = from_rows(sql)?;
    }
    if has("adjustments") {
        ledger.adjustments = rows(sql, "SELECT idempotency_key, fingerprint, location_id, record, reply FROM adjustments ORDER BY seq")?;
    }
    Ok(ledger)
}

/// The oldest form: the whole ledger as one JSON value.
fn from_json(sql: &SqlStorage) -> Result<Option<LegacyLedger>> {
    #[derive(Deserialize)]
    struct Body {
        body: String,
    }
    #[derive(Deserialize)]
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
    let Some(row) = rows::<Body>(sql, "SELECT body FROM ledger WHERE id = 1")?.into_iter().next() else { return Ok(None) };
    let old: OldLedger = serde_json::from_str(&row.body)?;
    let mut held: BTreeMap<&LocationId, u32> = BTreeMap::new();
    for hold in &old.holds {
        *held.entry(&hold.location_id).or_default() += hold.quantity.get();
    }
    let levels = old
        .levels
        .iter()
        .map(|(at, l)| (at.clone(), Level { on_hand: l.on_hand, committed: l.committed, held: held.get(at).copied().unwrap_or(0) }))
        .collect();
    let commitments = old.commitments.into_iter().map(|(order, allocations)| (OrderRef(order), Commitment::Committed { allocations })).collect();
    Ok(Some(LegacyLedger { levels, holds: old.holds, commitments, adjustments: Vec::new() }))
}

/// The rows form: levels, holds and commitments in tables of their own.
fn from_rows(sql: &SqlStorage) -> Result<LegacyLedger> {
    #[derive(Deserialize)]
    struct LevelRow {
        location_id: LocationId,
        on_hand: u32,
        committed: u32,
        held: u32,
    }
    #[derive(Deserialize)]
    struct CommitmentRow {
        order_ref: String,
        state: String,
    }
    let levels = rows::<LevelRow>(sql, "SELECT location_id, on_hand, committed, held FROM levels")?
        .into_iter()
        .map(|l| (l.location_id, Level { on_hand: l.on_hand, committed: l.committed, held: l.held }))
        .collect();
    let holds = rows::<HoldRow>(sql, "SELECT reference, location_id, quantity, placed_at, expires_at FROM holds ORDER BY seq")?
        .into_iter()
        .map(HoldRow::hold)
        .collect::<Result<_>>()?;
    let commitments = rows::<CommitmentRow>(sql, "SELECT order_ref, state FROM commitments")?
        .into_iter()
        .map(|c| Ok((OrderRef(c.order_ref), serde_json::from_str(&c.state)?)))
        .collect::<Result<_>>()?;
    Ok(LegacyLedger { levels, holds, commitments, adjustments: Vec::new() })
}

/// Writes a SKU's old ledger into its style object's rows and marks the SKU as kept
/// here. Synchronous: it commits with the command that asked for it.
pub fn import(mut rows: SqlRows<'_>, ledger: LegacyLedger) -> Result<()> {
    for (at, level) in &ledger.levels {
        rows.put_level(at, *level)?;
    }
    for hold in &ledger.holds {
        rows.insert_hold(hold)?;
    }
    for (order, commitment) in &ledger.commitments {
        rows.put_commitment(order, commitment)?;
    }
    for adjustment in ledger.adjustments {
        rows.insert_adjustment(adjustment)?;
    }
    rows.sql.exec("INSERT INTO stock_skus (sku) VALUES (?)", vec![rows.sku.into()])?;
    Ok(())
}

/// Tests only: writes `ledger` into this object's old tables (in place of what they
/// held), as rows or (`as_json`) as the one JSON value of before rows, as an object of
/// before styles kept it.
pub fn plant(sql: &SqlStorage, ledger: &LegacyLedger, as_json: bool) -> Result<()> {
    for ddl in LEGACY_SCHEMA {
        sql.exec(ddl, None)?;
    }
    for table in ["levels", "holds", "commitments", "ledger", "adjustments"] {
        sql.exec(&format!("DELETE FROM {table}"), None)?;
    }
    if as_json {
        let levels: BTreeMap<&LocationId, serde_json::Value> =
            ledger.levels.iter().map(|(at, l)| (at, serde_json::json!({ "on_hand": l.on_hand, "committed": l.committed }))).collect();
        let commitments: BTreeMap<&str, &Vec<Allocation>> = ledger
            .commitments
            .iter()
            .filter_map(|(order, c)| match c {
                Commitment::Committed { allocations } => Some((order.0.as_str(), allocations)),
                _ => None,
            })
            .collect();
        let body = serde_json::json!({ "levels": levels, "holds": ledger.holds, "commitments": commitments });
        sql.exec("INSERT INTO ledger (id, body) VALUES (1, ?)", vec![body.to_string().into()])?;
    } else {
        for (at, l) in &ledger.levels {
            sql.exec(
                "INSERT INTO levels (location_id, on_hand, committed, held) VALUES (?, ?, ?, ?)",
                vec![at.as_str().into(), i64::from(l.on_hand).into(), i64::from(l.committed).into(), i64::from(l.held).into()],
            )?;
        }
        for h in &ledger.holds {
            sql.exec(
                "INSERT INTO holds (reference, location_id, quantity, placed_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                vec![
                    h.reference.0.as_str().into(),
                    h.location_id.as_str().into(),
                    i64::from(h.quantity.get()).into(),
                    h.placed_at.timestamp_millis().into(),
                    h.expires_at.timestamp_millis().into(),
                ],
            )?;
        }
        for (order, c) in &ledger.commitments {
            sql.exec("INSERT INTO commitments (order_ref, state) VALUES (?, ?)", vec![order.0.as_str().into(), serde_json::to_string(c)?.into()])?;
        }
    }
    for a in &ledger.adjustments {
        sql.exec(
            "INSERT INTO adjustments (idempotency_key, fingerprint, location_id, record, reply) VALUES (?, ?, ?, ?, ?)",
            vec![a.idempotency_key.as_str().into(), a.fingerprint.as_str().into(), a.location_id.as_str().into(), a.record.as_str().into(), a.reply.as_str().into()],
        )?;
    }
    Ok(())
}
