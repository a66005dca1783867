//! The stock Durable Object: one instance per SKU owns that SKU's `StockLedger`.
//! Every command runs to completion without awaiting between reading and writing,
//! so checks and changes are serial and their SQL writes commit together.
//! An alarm drops lapsed holds at the next expiry.

use chrono::{DateTime, Utc};
use omniedge::inventory::adjustment::{AdjustmentReason, AdjustmentRecord};
use omniedge::shared::ids::{LocationId, Sku};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::inventory::ledger::{Allocation, HoldRef, LocationLevel, OrderRef, StockChange, StockLedger};
use omniedge::Problem;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use crate::objects::protocol::{answer, internal, Outcome};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

/// What the worker asks of a SKU's stock object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StockCommand {
    View,
    Adjust(AdjustCommand),
    ListAdjustments { location_id: Option<LocationId>, limit: u32, before: Option<i64> },
    /// Counts as a reference sees them: what it holds itself counts as available.
    ViewFor { reference: HoldRef },
    /// Holds a cart line wherever most is available among `eligible`.
    HoldAnywhere { reference: HoldRef, quantity: PositiveQuantity, eligible: Vec<LocationId>, expires_at: DateTime<Utc> },
    /// Holds exactly these allocations (all or nothing).
    Hold { reference: HoldRef, allocations: Vec<Allocation>, expires_at: DateTime<Utc> },
    Release { reference: HoldRef },
    Commit { order: OrderRef, hold: HoldRef, allocations: Vec<Allocation> },
    HandOver { order: OrderRef },
    Restock { order: OrderRef },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AdjustCommand {
    pub sku: Sku,
    pub location_id: LocationId,
    pub change: StockChange,
    pub reason: AdjustmentReason,
    pub note: Option<String>,
    /// Scoped by the caller's key id, so two systems cannot collide.
    pub idempotency_key: String,
    pub fingerprint: String,
    pub recorded_by: String,
    pub adjustment_id: String,
    pub recorded_at: String,
}

/// Counts at one location right after a change.
#[derive(Debug, Serialize, Deserialize)]
pub struct LevelNow {
    pub location_id: LocationId,
    pub on_hand: u32,
    pub held: u32,
    pub available: u32,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Adjusted {
    pub adjustment: AdjustmentRecord,
    pub stock: LevelNow,
}

/// The answer to an adjustment: the stored first answer when replayed.
#[derive(Debug, Serialize, Deserialize)]
pub struct AdjustReply {
    pub replayed: bool,
    pub body: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AdjustmentPage {
    pub items: Vec<AdjustmentRecord>,
    pub next_cursor: Option<String>,
}

#[durable_object]
pub struct StockObject {
    state: State,
    sql: SqlStorage,
    ledger: RefCell<Option<StockLedger>>,
    /// The alarm time last set, so unchanged expiries cost no storage call.
    alarm_at: Cell<Option<DateTime<Utc>>>,
}

impl DurableObject for StockObject {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        for ddl in [
            "CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS adjustments (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                idempotency_key TEXT NOT NULL UNIQUE,
                fingerprint TEXT NOT NULL,
                location_id TEXT NOT NULL,
                record TEXT NOT NULL,
                reply TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS adjustments_by_location ON adjustments (location_id, seq)",
        ] {
            sql.exec(ddl, None).expect("stock object schema");
        }
        Self { state, sql, ledger: RefCell::new(None), alarm_at: Cell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let command: StockCommand = serde_json::from_slice(&req.bytes().await?)?;
        let now = Utc::now();
        let response = match command {
            StockCommand::View => answer(self.view(now)),
            StockCommand::Adjust(cmd) => answer(self.adjust(cmd, now)),
            StockCommand::ListAdjustments { location_id, limit, before } => {
                answer(self.list_adjustments(location_id.as_ref(), limit, before))
            }
            StockCommand::ViewFor { reference } => answer(self.view_for(&reference, now)),
            StockCommand::HoldAnywhere { reference, quantity, eligible, expires_at } => {
                answer(self.change(now, |l| Ok(l.hold_anywhere(&reference, quantity, &eligible, now, expires_at)?)))
            }
            StockCommand::Hold { reference, allocations, expires_at } => {
                answer(self.change(now, |l| Ok(l.hold(&reference, &allocations, now, expires_at)?)))
            }
            StockCommand::Release { reference } => answer(self.change(now, |l| Ok(l.release(&reference)))),
            StockCommand::Commit { order, hold, allocations } => {
                answer(self.change(now, |l| Ok(l.commit(&order, &hold, &allocations, now)?)))
            }
            StockCommand::HandOver { order } => answer(self.change(now, |l| Ok(l.hand_over(&order)?))),
            StockCommand::Restock { order } => answer(self.change(now, |l| Ok(l.restock(&order)?))),
        };
        self.schedule_expiry().await?;
        response
    }

    async fn alarm(&self) -> Result<Response> {
        let now = Utc::now();
        self.alarm_at.set(None);
        let mut ledger = self.load()?;
        if ledger.expire_holds(now) {
            self.save(&ledger)?;
        }
        *self.ledger.borrow_mut() = Some(ledger);
        self.schedule_expiry().await?;
        Response::ok("expired")
    }
}


impl StockObject {
    fn load(&self) -> Result<StockLedger> {
        if let Some(ledger) = self.ledger.borrow().as_ref() {
            return Ok(ledger.clone());
        }
        #[derive(Deserialize)]
        struct Row {
            body: String,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT body FROM ledger WHERE id = 1", None)?.to_array()?;
        Ok(match rows.first() {
            Some(row) => serde_json::from_str(&row.body)?,
            None => StockLedger::default(),
        })
    }

    fn save(&self, ledger: &StockLedger) -> Result<()> {
        self.sql.exec(
            "INSERT INTO ledger (id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
            vec![serde_json::to_string(ledger)?.into()],
        )?;
        *self.ledger.borrow_mut() = Some(ledger.clone());
        Ok(())
    }

    /// Keeps one alarm set at the earliest hold expiry.
    async fn schedule_expiry(&self) -> Result<()> {
        let next = self.ledger.borrow().as_ref().and_then(StockLedger::next_expiry);
        match next {
            Some(at) if self.alarm_at.get() != Some(at) => {
                self.state.storage().set_alarm(at).await?;
                self.alarm_at.set(Some(at));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn view(&self, now: DateTime<Utc>) -> Outcome<Vec<LocationLevel>> {
        let ledger = self.load().map_err(|e| internal("stock object", e))?;
        let view = ledger.view(now);
        *self.ledger.borrow_mut() = Some(ledger);
        Ok(view)
    }

    /// Applies one change to the ledger and saves it; nothing is saved when it is refused.
    fn change<T>(&self, now: DateTime<Utc>, apply: impl FnOnce(&mut StockLedger) -> Outcome<T>) -> Outcome<T> {
        let mut ledger = self.load().map_err(|e| internal("stock object", e))?;
        ledger.expire_holds(now);
        let outcome = apply(&mut ledger)?;
        self.save(&ledger).map_err(|e| internal("stock object", e))?;
        Ok(outcome)
    }

    fn view_for(&self, reference: &HoldRef, now: DateTime<Utc>) -> Outcome<Vec<LocationLevel>> {
        let own = self.load().map_err(|e| internal("stock object", e))?.holds_of(reference, now);
        Ok(self
            .view(now)?
            .into_iter()
            .map(|mut level| {
                let mine: u32 = own.iter().filter(|a| a.location_id == level.location_id).map(|a| a.quantity.get()).sum();
                level.held -= mine;
                level.available += mine;
                level
            })
            .collect())
    }

    fn adjust(&self, cmd: AdjustCommand, now: DateTime<Utc>) -> Outcome<AdjustReply> {
        if let Some(reply) = self.replay(&cmd.idempotency_key, &cmd.fingerprint)? {
            return Ok(reply);
        }
        let mut ledger = self.load().map_err(|e| internal("stock object", e))?;
        let adjusted = ledger.adjust(&cmd.location_id, cmd.change, now)?;
        let level = ledger.view(now).into_iter().find(|l| l.location_id == cmd.location_id).expect("adjusted location is in the ledger");
        let record = AdjustmentRecord {
            id: cmd.adjustment_id,
            sku: cmd.sku,
            location_id: cmd.location_id.clone(),
            change: cmd.change,
            reason: cmd.reason,
            note: cmd.note,
            on_hand_before: adjusted.on_hand_before,
            on_hand_after: adjusted.on_hand_after,
            released_holds: adjusted.released_holds,
            recorded_by: cmd.recorded_by,
            recorded_at: cmd.recorded_at,
        };
        let body = serde_json::to_string(&Adjusted {
            stock: LevelNow { location_id: level.location_id, on_hand: level.on_hand, held: level.held, available: level.available },
            adjustment: record.clone(),
        })
        .map_err(|_| Problem::internal())?;
        // No await between here and the end: both writes commit together.
        self.save(&ledger).map_err(|e| internal("stock object", e))?;
        self.sql
            .exec(
                "INSERT INTO adjustments (idempotency_key, fingerprint, location_id, record, reply) VALUES (?, ?, ?, ?, ?)",
                vec![
                    cmd.idempotency_key.into(),
                    cmd.fingerprint.into(),
                    cmd.location_id.as_str().into(),
                    serde_json::to_string(&record).map_err(|_| Problem::internal())?.into(),
                    body.clone().into(),
                ],
            )
            .map_err(|e| internal("stock object", e))?;
        Ok(AdjustReply { replayed: false, body })
    }

    /// The first answer for an idempotency key, or a refusal if the body differs.
    fn replay(&self, key: &str, fingerprint: &str) -> Outcome<Option<AdjustReply>> {
        #[derive(Deserialize)]
        struct Row {
            fingerprint: String,
            reply: String,
        }
        let rows: Vec<Row> = self
            .sql
            .exec("SELECT fingerprint, reply FROM adjustments WHERE idempotency_key = ?", vec![key.into()])
            .and_then(|c| c.to_array())
            .map_err(|e| internal("stock object", e))?;
        match rows.into_iter().next() {
            None => Ok(None),
            Some(row) if row.fingerprint == fingerprint => Ok(Some(AdjustReply { replayed: true, body: row.reply })),
            Some(_) => Err(Problem::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request body",
            )),
        }
    }

    fn list_adjustments(&self, location: Option<&LocationId>, limit: u32, before: Option<i64>) -> Outcome<AdjustmentPage> {
        #[derive(Deserialize)]
        struct Row {
            seq: i64,
            record: String,
        }
        let before = before.unwrap_or(i64::MAX >> 11);
        let cursor = match location {
            Some(loc) => self.sql.exec(
                "SELECT seq, record FROM adjustments WHERE location_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                vec![loc.as_str().into(), before.into(), (limit as i64 + 1).into()],
            ),
            None => self.sql.exec(
                "SELECT seq, record FROM adjustments WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                vec![before.into(), (limit as i64 + 1).into()],
            ),
        };
        let mut rows: Vec<Row> = cursor.and_then(|c| c.to_array()).map_err(|e| internal("stock object", e))?;
        let next_cursor = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.seq.to_string()).unwrap_or_default()
        });
        let items = rows
            .iter()
            .map(|r| serde_json::from_str(&r.record))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| Problem::internal())?;
        Ok(AdjustmentPage { items, next_cursor })
    }
}
