//! The stock Durable Object: one instance per style (a size grid, every color) owns the
//! `StockLedger` of each of its SKUs and what became of each order's units
//! (`Commitment`, one row per SKU and order, so that every command on an order is
//! idempotent). One call carries commands for any of the style's SKUs, run one after
//! another and answered each as if it came alone: a size grid's counts or an order's
//! takes cost one call. Every call runs to completion without awaiting between reading
//! and writing, so checks and changes are serial and their SQL writes commit together.
//! A SKU first touched here takes its ledger over from its own object of before styles
//! (`stock_legacy`). An alarm drops lapsed holds at the next expiry, of any SKU. Answers
//! are typed: the value, or a `StockRefusal`.

use chrono::{DateTime, Utc};
use omniedge::inventory::adjustment::{AdjustmentReason, AdjustmentRecord, MAX_LISTED_RELEASES};
use omniedge::shared::ids::{LocationId, Sku};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::inventory::scarcity::ScarceHolds;
use crate::objects::stock_legacy::{self, LegacyLedger};
use crate::objects::stock_rows::{self, SqlRows, StoredAdjustment};
use omniedge::inventory::ledger::{Allocation, HoldRef, LocationLevel, OrderRef, Outcome, StockChange, StockError, StockLedger, EXPIRY_BATCH};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use crate::http::read_body;
use crate::objects::protocol::{reply, request, Reply};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

/// A call to a stock object.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum StockCall {
    /// Commands for SKUs of the object's style, answered in order (none: a ping).
    Skus { commands: Vec<SkuCommand> },
    /// To a SKU's object of before styles, from its style's: everything it keeps.
    HandOver,
    /// Tests only: plants a ledger as an object of before styles kept it (`stock_legacy::plant`).
    PlantLegacy { ledger: LegacyLedger, as_json: bool },
}

/// One command for one SKU of the style.
#[derive(Debug, Serialize, Deserialize)]
pub struct SkuCommand {
    pub sku: Sku,
    pub command: StockCommand,
}

/// What the worker asks of a SKU's ledger.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StockCommand {
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

/// A stock adjustment at one location, of the SKU its `SkuCommand` names.
#[derive(Debug, Serialize, Deserialize)]
pub struct AdjustCommand {
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
    env: Env,
    /// Whether this instance made sure of its tables.
    ready: Cell<bool>,
    /// SKUs known to be kept here since this instance started.
    kept: RefCell<HashSet<Sku>>,
    /// The alarm time last set, so unchanged expiries cost no storage call.
    alarm_at: Cell<Option<DateTime<Utc>>>,
    /// The earliest expiry of the holds the current call inserted (epoch ms): only one
    /// earlier than the alarm needs the earliest expiry read again.
    earliest_insert: Cell<Option<i64>>,
    /// No hold kept here lapses before this (epoch ms; the earliest expiry last read,
    /// lowered by every insert since), so until then commands query for no lapsed holds.
    /// None until this instance first reads it.
    no_lapse_before: Cell<Option<i64>>,
}

impl DurableObject for StockObject {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        Self { state, sql, env, ready: Cell::new(false), kept: RefCell::new(HashSet::new()), alarm_at: Cell::new(None), earliest_insert: Cell::new(None), no_lapse_before: Cell::new(None) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let commands = match serde_json::from_slice(&read_body(&req).await?)? {
            StockCall::Skus { commands } => commands,
            StockCall::HandOver => return reply(stock_legacy::read(&self.sql).map(Ok::<_, StockRefusal>)),
            StockCall::PlantLegacy { ledger, as_json } => return reply(stock_legacy::plant(&self.sql, &ledger, as_json).map(Ok::<_, StockRefusal>)),
        };
        self.prepare()?;
        for command in &commands {
            self.keep(&command.sku).await?;
        }
        // From here on nothing awaits until every command's writes are made.
        let now = Utc::now();
        let answers = commands.into_iter().map(|c| self.run(c, now)).collect::<Result<Vec<_>>>()?;
        self.schedule_expiry().await?;
        reply(Ok(Ok::<_, StockRefusal>(answers)))
    }

    /// Deletes lapsed holds, of whichever SKUs, in bounded batches: another alarm
    /// follows at once while more have lapsed.
    async fn alarm(&self) -> Result<Response> {
        self.alarm_at.set(None);
        self.prepare()?;
        #[derive(Deserialize)]
        struct Lapsed {
            sku: String,
        }
        let now = Utc::now();
        let mut left = EXPIRY_BATCH;
        while left > 0 {
            let next = self.sql.exec("SELECT sku FROM stock_holds WHERE expires_at <= ? ORDER BY expires_at LIMIT 1", vec![now.timestamp_millis().into()]);
            let Some(Lapsed { sku }) = next?.to_array::<Lapsed>()?.into_iter().next() else { break };
            let expired = StockLedger::new(self.rows(&sku)).expire(now, left)?;
            if expired == 0 {
                break;
            }
            left -= expired.min(left);
        }
        self.schedule_expiry().await?;
        Response::ok(format!("expired {}", EXPIRY_BATCH - left))
    }
}

/// A ledger answer with the domain's refusal as the object's.
fn refusable<T>(outcome: Outcome<T, worker::Error>) -> Result<std::result::Result<T, StockRefusal>> {
    outcome.map(|answer| answer.map_err(StockRefusal::from))
}

/// One command's answer among a call's.
type CommandReply = Reply<serde_json::Value, StockRefusal>;

fn answer<T: Serialize>(outcome: Result<std::result::Result<T, StockRefusal>>) -> Result<CommandReply> {
    Ok(match outcome? {
        Ok(value) => Reply::Done(serde_json::to_value(value)?),
        Err(refused) => Reply::Refused(refused),
    })
}

fn done<T: Serialize>(outcome: Result<T>) -> Result<CommandReply> {
    answer(outcome.map(Ok))
}

impl StockObject {
    /// Creates the tables once per instance.
    fn prepare(&self) -> Result<()> {
        if !self.ready.get() {
            for ddl in stock_rows::SCHEMA {
                self.sql.exec(ddl, None)?;
            }
            self.ready.set(true);
        }
        Ok(())
    }

    /// Makes sure `sku`'s ledger is kept here, taking it over from the SKU's object of
    /// before styles on its first touch. Two calls may ask at once: the first to come
    /// back imports, the other finds it done.
    async fn keep(&self, sku: &Sku) -> Result<()> {
        if self.kept.borrow().contains(sku) || self.known(sku)? {
            self.kept.borrow_mut().insert(sku.clone());
            return Ok(());
        }
        let old = stock_legacy::old_object(&self.env, sku)?;
        let ledger = match request::<_, LegacyLedger, StockRefusal>(&old, &StockCall::HandOver).await {
            Ok(Ok(ledger)) => ledger,
            Ok(Err(refused)) => return Err(worker::Error::RustError(format!("the old stock object of {sku} refused: {refused}"))),
            Err(unavailable) => return Err(worker::Error::RustError(unavailable.0)),
        };
        if !self.known(sku)? {
            stock_legacy::import(self.rows(sku.as_str()), ledger)?;
        }
        self.kept.borrow_mut().insert(sku.clone());
        Ok(())
    }

    fn known(&self, sku: &Sku) -> Result<bool> {
        #[derive(Deserialize)]
        struct Kept {
            n: u32,
        }
        let found = self.sql.exec("SELECT COUNT(*) AS n FROM stock_skus WHERE sku = ?", vec![sku.as_str().into()])?;
        Ok(found.to_array::<Kept>()?.first().is_some_and(|k| k.n > 0))
    }

    /// One SKU's command, answered as if it came alone.
    fn run(&self, SkuCommand { sku, command }: SkuCommand, now: DateTime<Utc>) -> Result<CommandReply> {
        let rows = self.rows(sku.as_str());
        let no_lapse_before = self.no_lapse_before.get().map(|at| self.earliest_insert.get().map_or(at, |inserted| inserted.min(at)));
        let mut ledger = match no_lapse_before.and_then(DateTime::from_timestamp_millis) {
            Some(at) => StockLedger::with_no_lapse_before(rows, at, now),
            None => StockLedger::new(rows),
        };
        match command {
            StockCommand::View => done(ledger.view(now)),
            StockCommand::Adjust(cmd) => answer(self.adjust(&mut ledger, &sku, cmd, now)),
            StockCommand::ListAdjustments { location_id, limit, before } => done(self.list_adjustments(&sku, location_id.as_ref(), limit, before)),
            StockCommand::ViewFor { reference } => done(ledger.view_for(&reference, now)),
            StockCommand::HoldCartLine { reference, quantity, eligible, expires_at, scarce } => {
                let held = ledger.hold_for_cart(&reference, quantity, &eligible, now, expires_at, scarce.as_ref());
                answer(refusable(held.map(|outcome| outcome.map(|(location_id, expires_at)| CartHold { location_id, expires_at }))))
            }
            StockCommand::Hold { reference, allocations, expires_at } => answer(refusable(ledger.hold(&reference, &allocations, now, expires_at))),
            StockCommand::HoldForOrder { order, reference, allocations, expires_at } => {
                answer(refusable(ledger.hold_for_order(&order, &reference, &allocations, now, expires_at)))
            }
            StockCommand::Release { reference } => done(ledger.release(&reference)),
            StockCommand::Commit { order, hold, allocations } => {
                answer(ledger.commit(&order, &hold, &allocations, now).map(|c| c.answer().map_err(StockRefusal::from)))
            }
            StockCommand::Take { order, hold, allocations } => {
                answer(ledger.take(&order, &hold, &allocations, now).map(|taken| taken.map_err(|short| StockRefusal::Stock(StockError::Shortage { short }))))
            }
            StockCommand::Withdraw { order, keep } => done(ledger.withdraw(&order, keep.as_ref().map(|(hold, until)| (hold, *until)), now)),
            StockCommand::HandOver { order } => answer(refusable(ledger.hand_over(&order))),
            StockCommand::Restock { order } => answer(refusable(ledger.restock(&order))),
            StockCommand::ReceiveReturn { receipt, location_id, quantity } => done(ledger.receive_return(&receipt, &location_id, quantity)),
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
                answer(outcome)
            }
        }
    }

    fn rows<'a>(&'a self, sku: &'a str) -> SqlRows<'a> {
        SqlRows { sql: &self.sql, sku, earliest_insert: &self.earliest_insert }
    }

    /// Keeps one alarm set at the earliest hold expiry of any SKU. While one is set, only
    /// a hold inserted to lapse before it moves it (one deleted meanwhile at most makes
    /// the alarm come early and find nothing).
    async fn schedule_expiry(&self) -> Result<()> {
        let inserted = self.earliest_insert.take();
        if self.alarm_at.get().is_some_and(|at| inserted.is_none_or(|e| e >= at.timestamp_millis())) {
            if let (Some(known), Some(inserted)) = (self.no_lapse_before.get(), inserted) {
                self.no_lapse_before.set(Some(known.min(inserted)));
            }
            return Ok(());
        }
        #[derive(Deserialize)]
        struct Next {
            at: Option<i64>,
        }
        let next = self.sql.exec("SELECT MIN(expires_at) AS at FROM stock_holds", None)?.to_array::<Next>()?;
        let earliest = next.into_iter().next().and_then(|n| n.at);
        self.no_lapse_before.set(Some(earliest.unwrap_or(DateTime::<Utc>::MAX_UTC.timestamp_millis())));
        let Some(at) = earliest.and_then(DateTime::from_timestamp_millis) else { return Ok(()) };
        if self.alarm_at.get() != Some(at) {
            self.state.storage().set_alarm(at).await?;
            self.alarm_at.set(Some(at));
        }
        Ok(())
    }

    fn adjust(&self, ledger: &mut StockLedger<SqlRows<'_>>, sku: &Sku, cmd: AdjustCommand, now: DateTime<Utc>) -> Answer<AdjustReply> {
        match Self::replay(ledger.rows(), &cmd.idempotency_key, &cmd.fingerprint)? {
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
            sku: sku.clone(),
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
        ledger.rows().insert_adjustment(StoredAdjustment {
            idempotency_key: cmd.idempotency_key,
            fingerprint: cmd.fingerprint,
            location_id: cmd.location_id.as_str().to_owned(),
            record: serde_json::to_string(&record)?,
            reply: body.clone(),
        })?;
        Ok(Ok(AdjustReply { replayed: false, body }))
    }

    /// The first answer for an idempotency key, or a refusal if the body differs.
    fn replay(rows: &SqlRows<'_>, key: &str, fingerprint: &str) -> Answer<Option<AdjustReply>> {
        Ok(match rows.adjustment_by_key(key)? {
            None => Ok(None),
            Some(kept) if kept.fingerprint == fingerprint => Ok(Some(AdjustReply { replayed: true, body: kept.reply })),
            Some(_) => Err(StockRefusal::IdempotencyKeyReused),
        })
    }

    fn list_adjustments(&self, sku: &Sku, location: Option<&LocationId>, limit: u32, before: Option<i64>) -> Result<AdjustmentPage> {
        let before = before.unwrap_or(i64::MAX >> 11);
        let mut rows = self.rows(sku.as_str()).adjustments(location, before, limit as i64 + 1)?;
        let next_cursor = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|r| r.seq.to_string()).unwrap_or_default()
        });
        let items = rows.iter().map(|r| serde_json::from_str(&r.record)).collect::<std::result::Result<_, _>>()?;
        Ok(AdjustmentPage { items, next_cursor })
    }
}
