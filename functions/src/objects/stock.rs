//! The stock Durable Object: one instance per SKU owns that SKU's `StockLedger` and
//! what became of each order's units (`Commitment`, one row per order, so that every
//! command on an order is idempotent). Every command runs to completion without
//! awaiting between reading and writing, so checks and changes are serial and their SQL
//! writes commit together. An alarm drops lapsed holds at the next expiry. Answers are
//! typed: the value, or a `StockRefusal`.

use chrono::{DateTime, Utc};
use omniedge::inventory::adjustment::{AdjustmentReason, AdjustmentRecord, MAX_LISTED_RELEASES};
use omniedge::shared::ids::{LocationId, Sku};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::inventory::scarcity::ScarceHolds;
use crate::objects::stock_rows::{self, SqlRows};
use omniedge::inventory::ledger::{Allocation, HoldRef, LocationLevel, OrderRef, Outcome, StockChange, StockError, StockLedger, EXPIRY_BATCH};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use crate::objects::protocol::reply;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

/// What the worker asks of a SKU's stock object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StockCommand {
    /// Does nothing: the deep health check's object call.
    Ping,
    View,
    Adjust(AdjustCommand),
    ListAdjustments { location_id: Option<LocationId>, limit: u32, before: Option<i64> },
    /// Counts as a reference sees them: what it holds itself counts as available.
    ViewFor { reference: HoldRef },
    /// Holds a cart line wherever most is available among `eligible`, until `expires_at`
    /// or sooner while the SKU is scarce (`scarce`); answers a `CartHold`.
    HoldCartLine {
        reference: HoldRef,
        quantity: PositiveQuantity,
        eligible: Vec<LocationId>,
        expires_at: DateTime<Utc>,
        scarce: Option<ScarceHolds>,
    },
    /// Holds exactly these allocations (all or nothing).
    Hold { reference: HoldRef, allocations: Vec<Allocation>, expires_at: DateTime<Utc> },
    /// Holds for an order's units unless they are settled already (`StockLedger::hold_for_order`).
    HoldForOrder { order: OrderRef, reference: HoldRef, allocations: Vec<Allocation>, expires_at: DateTime<Utc> },
    Release { reference: HoldRef },
    Commit { order: OrderRef, hold: HoldRef, allocations: Vec<Allocation> },
    /// Holds and commits an order being placed in one step (`StockLedger::take`): answers
    /// its `Commitment`, or a shortage with nothing recorded.
    Take { order: OrderRef, hold: HoldRef, allocations: Vec<Allocation> },
    /// Undoes a take whose order will not be written (`StockLedger::withdraw`).
    Withdraw { order: OrderRef, keep: Option<(HoldRef, DateTime<Utc>)> },
    HandOver { order: OrderRef },
    Restock { order: OrderRef },
    /// A received return line's units on hand at a location, once per receipt.
    ReceiveReturn { receipt: OrderRef, location_id: LocationId, quantity: PositiveQuantity },
    /// Tests only: `count` holds of one unit at a location, under references
    /// `{prefix}{i}`, through the same ledger rules as every hold.
    BulkHold { prefix: String, location_id: LocationId, count: u32, expires_at: DateTime<Utc> },
}

/// Where a cart line's units are held, and until when.
#[derive(Debug, Serialize, Deserialize)]
pub struct CartHold {
    pub location_id: LocationId,
    pub expires_at: DateTime<Utc>,
}

/// Why the stock object refused a command; nothing changed.
#[derive(Debug, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum StockRefusal {
    #[error(transparent)]
    Stock(#[from] StockError),
    #[error("this Idempotency-Key was already used with a different request body")]
    IdempotencyKeyReused,
}

/// What a command yields inside the object: its answer, a refusal, or a storage failure.
type Answer<T> = Result<std::result::Result<T, StockRefusal>>;

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
    /// Whether a ledger from before rows was looked for (and moved) since this instance started.
    migrated: Cell<bool>,
    /// The alarm time last set, so unchanged expiries cost no storage call.
    alarm_at: Cell<Option<DateTime<Utc>>>,
}

impl DurableObject for StockObject {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        let adjustments = [
            "CREATE TABLE IF NOT EXISTS adjustments (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                idempotency_key TEXT NOT NULL UNIQUE,
                fingerprint TEXT NOT NULL,
                location_id TEXT NOT NULL,
                record TEXT NOT NULL,
                reply TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS adjustments_by_location ON adjustments (location_id, seq)",
        ];
        for ddl in stock_rows::SCHEMA.iter().chain(&adjustments) {
            if let Err(e) = sql.exec(ddl, None) {
                worker::console_error!("stock object schema: {e}");
            }
        }
        Self { state, sql, migrated: Cell::new(false), alarm_at: Cell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let command: StockCommand = serde_json::from_slice(&req.bytes().await?)?;
        if let StockCommand::Ping = command {
            return reply(Ok(Ok::<_, StockRefusal>(())));
        }
        let now = Utc::now();
        let mut ledger = self.ledger()?;
        let response = match command {
            StockCommand::Ping => reply(Ok(Ok::<_, StockRefusal>(()))),
            StockCommand::View => reply(ledger.view(now).map(Ok::<_, StockRefusal>)),
            StockCommand::Adjust(cmd) => reply(self.adjust(&mut ledger, cmd, now)),
            StockCommand::ListAdjustments { location_id, limit, before } => {
                reply(self.list_adjustments(location_id.as_ref(), limit, before).map(Ok::<_, StockRefusal>))
            }
            StockCommand::ViewFor { reference } => reply(ledger.view_for(&reference, now).map(Ok::<_, StockRefusal>)),
            StockCommand::HoldCartLine { reference, quantity, eligible, expires_at, scarce } => {
                let held = ledger.hold_for_cart(&reference, quantity, &eligible, now, expires_at, scarce.as_ref());
                reply(refusable(held.map(|outcome| outcome.map(|(location_id, expires_at)| CartHold { location_id, expires_at }))))
            }
            StockCommand::Hold { reference, allocations, expires_at } => reply(refusable(ledger.hold(&reference, &allocations, now, expires_at))),
            StockCommand::HoldForOrder { order, reference, allocations, expires_at } => {
                reply(refusable(ledger.hold_for_order(&order, &reference, &allocations, now, expires_at)))
            }
            StockCommand::Release { reference } => reply(ledger.release(&reference).map(Ok::<_, StockRefusal>)),
            StockCommand::Commit { order, hold, allocations } => {
                reply(ledger.commit(&order, &hold, &allocations, now).map(|c| c.answer().map_err(StockRefusal::from)))
            }
            StockCommand::Take { order, hold, allocations } => {
                reply(ledger.take(&order, &hold, &allocations, now).map(|taken| taken.map_err(|short| StockRefusal::Stock(StockError::Shortage { short }))))
            }
            StockCommand::Withdraw { order, keep } => {
                reply(ledger.withdraw(&order, keep.as_ref().map(|(hold, until)| (hold, *until)), now).map(Ok::<_, StockRefusal>))
            }
            StockCommand::HandOver { order } => reply(refusable(ledger.hand_over(&order))),
            StockCommand::Restock { order } => reply(refusable(ledger.restock(&order))),
            StockCommand::ReceiveReturn { receipt, location_id, quantity } => {
                reply(ledger.receive_return(&receipt, &location_id, quantity).map(Ok::<_, StockRefusal>))
            }
            StockCommand::BulkHold { prefix, location_id, count, expires_at } => {
                let one = [Allocation { location_id, quantity: PositiveQuantity::ONE }];
                let mut outcome = Ok(Ok(0u32));
                for i in 0..count {
                    match ledger.hold(&HoldRef(format!("{prefix}{i}")), &one, now, expires_at) {
                        Ok(Ok(())) => outcome = Ok(Ok(i + 1)),
                        other => {
                            outcome = other.map(|refused| refused.map(|()| i).map_err(StockRefusal::from));
                            break;
                        }
                    }
                }
                reply(outcome)
            }
        };
        self.schedule_expiry(&ledger).await?;
        response
    }

    /// Deletes lapsed holds in bounded batches: another alarm follows at once while
    /// more have lapsed.
    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(None);
        let mut ledger = self.ledger()?;
        let expired = ledger.expire(Utc::now(), EXPIRY_BATCH)?;
        self.schedule_expiry(&ledger).await?;
        Response::ok(format!("expired {expired}"))
    }
}

/// A ledger answer with the domain's refusal as the object's.
fn refusable<T>(outcome: Outcome<T, worker::Error>) -> Result<std::result::Result<T, StockRefusal>> {
    outcome.map(|answer| answer.map_err(StockRefusal::from))
}

impl StockObject {
    /// The SKU's ledger over this object's rows (moved into rows on first touch).
    fn ledger(&self) -> Result<StockLedger<SqlRows<'_>>> {
        let mut rows = SqlRows { sql: &self.sql };
        if !self.migrated.get() {
            rows.migrate()?;
            self.migrated.set(true);
        }
        Ok(StockLedger::new(rows))
    }

    /// Keeps one alarm set at the earliest hold expiry.
    async fn schedule_expiry(&self, ledger: &StockLedger<SqlRows<'_>>) -> Result<()> {
        match ledger.next_expiry()? {
            Some(at) if self.alarm_at.get() != Some(at) => {
                self.state.storage().set_alarm(at).await?;
                self.alarm_at.set(Some(at));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn adjust(&self, ledger: &mut StockLedger<SqlRows<'_>>, cmd: AdjustCommand, now: DateTime<Utc>) -> Answer<AdjustReply> {
        match self.replay(&cmd.idempotency_key, &cmd.fingerprint)? {
            Ok(Some(reply)) => return Ok(Ok(reply)),
            Err(refused) => return Ok(Err(refused)),
            Ok(None) => {}
        }
        let adjusted = match ledger.adjust(&cmd.location_id, cmd.change, now)? {
            Ok(adjusted) => adjusted,
            Err(refused) => return Ok(Err(refused.into())),
        };
        let level = ledger.view(now)?.into_iter().find(|l| l.location_id == cmd.location_id).unwrap_or(LocationLevel {
            location_id: cmd.location_id.clone(),
            on_hand: 0,
            held: 0,
            available: 0,
            committed: 0,
        });
        let record = AdjustmentRecord {
            id: cmd.adjustment_id,
            sku: cmd.sku,
            location_id: cmd.location_id.clone(),
            change: cmd.change,
            reason: cmd.reason,
            note: cmd.note,
            on_hand_before: adjusted.on_hand_before,
            on_hand_after: adjusted.on_hand_after,
            released_hold_count: adjusted.released_holds.len() as u32,
            released_holds: adjusted.released_holds.into_iter().take(MAX_LISTED_RELEASES).collect(),
            recorded_by: cmd.recorded_by,
            recorded_at: cmd.recorded_at,
        };
        let body = serde_json::to_string(&Adjusted {
            stock: LevelNow { location_id: level.location_id, on_hand: level.on_hand, held: level.held, available: level.available },
            adjustment: record.clone(),
        })?;
        // No await between the ledger's writes and this one: they commit together.
        self.sql.exec(
            "INSERT INTO adjustments (idempotency_key, fingerprint, location_id, record, reply) VALUES (?, ?, ?, ?, ?)",
            vec![
                cmd.idempotency_key.into(),
                cmd.fingerprint.into(),
                cmd.location_id.as_str().into(),
                serde_json::to_string(&record)?.into(),
                body.clone().into(),
            ],
        )?;
        Ok(Ok(AdjustReply { replayed: false, body }))
    }

    /// The first answer for an idempotency key, or a refusal if the body differs.
    fn replay(&self, key: &str, fingerprint: &str) -> Answer<Option<AdjustReply>> {
        #[derive(Deserialize)]
        struct Row {
            fingerprint: String,
            reply: String,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT fingerprint, reply FROM adjustments WHERE idempotency_key = ?", vec![key.into()])?.to_array()?;
        Ok(match rows.into_iter().next() {
            None => Ok(None),
            Some(row) if row.fingerprint == fingerprint => Ok(Some(AdjustReply { replayed: true, body: row.reply })),
            Some(_) => Err(StockRefusal::IdempotencyKeyReused),
        })
    }

    fn list_adjustments(&self, location: Option<&LocationId>, limit: u32, before: Option<i64>) -> Result<AdjustmentPage> {
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
        let mut rows: Vec<Row> = cursor?.to_array()?;
        let next_cursor = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.seq.to_string()).unwrap_or_default()
        });
        let items = rows.iter().map(|r| serde_json::from_str(&r.record)).collect::<std::result::Result<_, _>>()?;
        Ok(AdjustmentPage { items, next_cursor })
    }
}
