//! Deterministic crash simulation of the order workflows, natively (in the spirit of
//! FoundationDB's and TigerBeetle's). Each seed builds a small retailer (a few SKUs, two
//! stores and a warehouse, uneven stock, open carts with held lines) and runs racing
//! placements, retries, moves, reads and sweeps over in-memory fakes of the ports. A
//! seeded scheduler interleaves them at every port call, and any port call may fail
//! before or after it takes effect, or crash its flow there for good. Then the sweeper
//! runs without faults, and the invariants are checked:
//! - units are conserved per SKU and location;
//! - every commitment belongs to a written order, and agrees with its status (placed or
//!   ready: committed; handed over: handed over; cancelled: restocked, void or refused),
//!   with the order's own allocation: nothing promised twice, nothing committed for ever;
//! - no order was refused for want of stock while units it could have used stayed
//!   available throughout its placement;
//! - one Idempotency-Key is at most one order, even when a retry takes over the claim of
//!   a slow first attempt;
//! - after the sweeper, nothing is left owed.
//!
//! Then the handed-over orders are returned: the same return sent twice under one key
//! and once under another, receipts racing (under one key and two), all crashing at any
//! port call, then retried and swept; and the returns' invariants checked: no unit
//! returned beyond what was handed over, one key is at most one return, every
//! resellable unit received goes on hand exactly once where received (damaged ones
//! never), a goodwill coupon is issued once per received return that earns one, an
//! exchange's replacement units are handed over under its linked order once received and
//! no longer held once received or cancelled (nothing stranded), and nothing is left owed.
//!
//! `SIMULATION_SEEDS` (default 2000) sets how many seeds run; `SIMULATION_SEED` replays one.
//! A failure names its seed.

use crate::access::Principal;
use crate::catalog::Product;
use crate::customers::Email;
use crate::inventory::ledger::{Allocation, Commitment, HoldRef, LocationLevel, OrderRef, StockChange, StockError, StockLedger};
use crate::inventory::rows::{in_memory, MemoryRows};
use crate::locations::Location;
use crate::pricing::coupon::{Coupon, CouponCode};
use crate::pricing::DeliveryTariff;
use crate::sales::allocation::{allocate, per_sku, Availability};
use crate::sales::cart::{Cart, CartError, CartLine};
use crate::sales::fulfilment::FulfilmentRequest;
use crate::sales::order::{OrderAction, OrderStatus};
use crate::sales::placement::{Order, OrderDraft};
use crate::shared::ids::{CartId, CustomerId, LocationId, OrderId, Sku};
use crate::shared::quantity::{PositiveQuantity, Quantity};
use crate::returns::{Condition, LineRequest, Return, ReturnReason, ReturnRequest, ReturnState, ReturnStatus};
use crate::shared::ids::ReturnId;
use crate::workflows::effects::{Effect, OwedEffect};
use crate::workflows::returns::{Actor, ReturnSettings, Step};
use crate::workflows::lifecycle::{move_on, read};
use crate::workflows::placement::{place, PlacementError, PlacementRequest};
use crate::workflows::ports::{
    CartPort, Claim, ClaimKey, ClaimRefused, Claimed, HoldAgain, OrderStore, OwedBefore, Placing, PortError, Ports, ReturnClaim, ReturnStore, ReturnWrite, ReturnWriteRefused, ReturnWritten, StockPort,
    StoredOrder, Unavailable, WriteRefused,
};
use crate::workflows::settlement::{sweep, SettleError};
use chrono::{DateTime, Duration, Utc};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

// ---------------------------------------------------------------- randomness

/// SplitMix64: small, seedable, good enough to pick interleavings and faults.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

// ---------------------------------------------------------------- the world

/// What may go wrong at a port call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Fault {
    None,
    /// Fails before taking effect.
    FailBefore,
    /// Takes effect, then the answer is lost.
    FailAfter,
    /// The flow dies here, before the call takes effect.
    CrashBefore,
    /// The flow dies here, after the call took effect.
    CrashAfter,
}

/// One stored order in the fake D1.
struct Row {
    order: Order,
    revision: u64,
}

enum ClaimState {
    /// `order`: the order a placement records it is placing (none for a return step).
    Pending { fingerprint: String, owner: String, since: DateTime<Utc>, order: Option<OrderId> },
    Done { fingerprint: String, answer: Answer },
}

/// What a finished claim answers again.
#[derive(Clone, Debug)]
enum Answer {
    Order(Box<Order>),
    Return(Box<Return>),
}

/// A pending claim older than this may be taken over by a retry (the worker waits 30 s;
/// here it is short, so takeovers happen while the first attempt is still running).
const STALE_CLAIM_SECONDS: i64 = 2;
/// What a revoked claim's owner becomes: no placement owns it any more.
const REVOKED: &str = "revoked";

#[derive(Default)]
struct D1 {
    orders: BTreeMap<OrderId, Row>,
    owed: BTreeMap<i64, (OrderId, Effect)>,
    claims: HashMap<(String, String), ClaimState>,
    /// Every order written under each claim: one key, one order.
    written: HashMap<(String, String), Vec<OrderId>>,
    returns: BTreeMap<ReturnId, Return>,
    /// Every goodwill coupon issued, by return: at most one each.
    coupons_issued: Vec<ReturnId>,
    next_seq: i64,
    next_revision: u64,
}

struct SkuStock {
    ledger: StockLedger<MemoryRows>,
}

impl SkuStock {
    fn commitments(&self) -> &BTreeMap<OrderRef, Commitment> {
        self.ledger.rows().commitments()
    }
}

struct World {
    rng: RefCell<Rng>,
    /// Percent of port calls that go wrong (0 during recovery).
    fault_percent: Cell<u64>,
    now: Cell<DateTime<Utc>>,
    d1: RefCell<D1>,
    stock: RefCell<BTreeMap<Sku, SkuStock>>,
    carts: RefCell<BTreeMap<CartId, Cart>>,
    products: Vec<Product>,
    locations: Vec<Location>,
    /// Units that became available again (released, restocked, lapsed), per SKU and
    /// location, as last seen; and what each location had available when last looked at.
    freed: RefCell<HashMap<(Sku, LocationId), u32>>,
    last_available: RefCell<HashMap<(Sku, LocationId), u32>>,
    /// What `recent_levels` answers from: each SKU's counts when last read into it.
    recent: RefCell<HashMap<Sku, Vec<LocationLevel>>>,
    /// The task being polled, and whether a port call crashed it.
    crashed: Cell<bool>,
    /// Print every port call (`SIMULATION_TRACE=1` with `SIMULATION_SEED`).
    trace: bool,
    owners: Cell<u64>,
}

const START: i64 = 1_800_000_000;
const PLACEMENT_HOLD_SECONDS: i64 = 6;
const CART_HOLD_SECONDS: i64 = 900;

impl World {
    fn now(&self) -> DateTime<Utc> {
        self.now.get()
    }

    /// A claim owner token for a new request.
    fn new_owner(&self) -> String {
        self.owners.set(self.owners.get() + 1);
        format!("owner-{}", self.owners.get())
    }

    /// A port call: yields to the scheduler, then takes effect (or not) as the fault says.
    async fn call<T: std::fmt::Debug>(&self, what: impl FnOnce() -> String, effect: impl FnOnce() -> T) -> Result<T, Unavailable> {
        YieldOnce(false).await;
        let fault = self.draw_fault();
        if self.trace {
            eprintln!("{} {} {:?}", self.now().format("%M:%S%.3f"), what(), fault);
        }
        let outcome = match fault {
            Fault::CrashBefore => return self.crash().await,
            Fault::FailBefore => Err(Unavailable("injected: failed before taking effect".into())),
            _ => Ok(effect()),
        };
        if self.trace {
            eprintln!("    -> {outcome:?}");
        }
        self.observe();
        match fault {
            Fault::CrashAfter => self.crash().await,
            Fault::FailAfter => Err(Unavailable("injected: answer lost after taking effect".into())),
            _ => outcome,
        }
    }

    fn draw_fault(&self) -> Fault {
        let mut rng = self.rng.borrow_mut();
        if !rng.chance(self.fault_percent.get()) {
            return Fault::None;
        }
        [Fault::FailBefore, Fault::FailAfter, Fault::CrashBefore, Fault::CrashAfter][rng.below(4)]
    }

    /// Marks the polled flow as dead; the scheduler drops it.
    async fn crash<T>(&self) -> T {
        self.crashed.set(true);
        std::future::pending().await
    }

    /// Records units that became available since the last look.
    fn observe(&self) {
        let now = self.now();
        let stock = self.stock.borrow();
        let mut last = self.last_available.borrow_mut();
        let mut freed = self.freed.borrow_mut();
        for (sku, s) in stock.iter() {
            for level in in_memory(s.ledger.view(now)) {
                let key = (sku.clone(), level.location_id.clone());
                let before = last.insert(key.clone(), level.available).unwrap_or(0);
                if level.available > before {
                    *freed.entry(key).or_default() += level.available - before;
                }
            }
        }
    }

    fn with_stock<T>(&self, sku: &Sku, f: impl FnOnce(&mut SkuStock) -> T) -> T {
        let mut stock = self.stock.borrow_mut();
        let s = stock.entry(sku.clone()).or_insert_with(|| SkuStock { ledger: StockLedger::default() });
        f(s)
    }

}

/// A future that is pending once: the point where the scheduler may switch flows.
pub(super) struct YieldOnce(pub(super) bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

fn refused<T, E>(outcome: Result<Result<T, E>, Unavailable>) -> Result<T, PortError<E>> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(PortError::Refused(e)),
        Err(u) => Err(PortError::Unavailable(u)),
    }
}

impl StockPort for World {
    async fn levels_for(&self, sku: &Sku, hold: &HoldRef) -> Result<Vec<LocationLevel>, Unavailable> {
        let now = self.now();
        self.call(|| format!("levels_for {sku} {hold:?}"), || self.with_stock(sku, |s| in_memory(s.ledger.view_for(hold, now)))).await
    }

    /// Counts as last cached: half the time read now, else whatever was cached last,
    /// however old (staler than the worker's cache ever is).
    async fn recent_levels(&self, sku: &Sku) -> Result<Vec<LocationLevel>, Unavailable> {
        let now = self.now();
        let refresh = self.rng.borrow_mut().chance(50);
        self.call(
            || format!("recent_levels {sku} refresh={refresh}"),
            || {
                let cached = self.recent.borrow().get(sku).cloned();
                match cached {
                    Some(levels) if !refresh => levels,
                    _ => {
                        let levels = self.with_stock(sku, |s| in_memory(s.ledger.view(now)));
                        self.recent.borrow_mut().insert(sku.clone(), levels.clone());
                        levels
                    }
                }
            },
        )
        .await
    }

    async fn hold(&self, sku: &Sku, hold: &HoldRef, allocations: &[Allocation], expires_at: DateTime<Utc>) -> Result<(), PortError<StockError>> {
        let now = self.now();
        refused(self.call(|| format!("hold {sku} {hold:?} {allocations:?}"), || self.with_stock(sku, |s| in_memory(s.ledger.hold(hold, allocations, now, expires_at)))).await)
    }

    async fn hold_for_order(&self, sku: &Sku, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation], expires_at: DateTime<Utc>) -> Result<(), PortError<StockError>> {
        let now = self.now();
        let held = || self.with_stock(sku, |s| in_memory(s.ledger.hold_for_order(order, hold, allocations, now, expires_at)));
        refused(self.call(|| format!("hold_for_order {sku} {order:?} {allocations:?}"), held).await)
    }

    async fn release(&self, sku: &Sku, hold: &HoldRef) -> Result<(), Unavailable> {
        self.call(|| format!("release {sku} {hold:?}"), || self.with_stock(sku, |s| in_memory(s.ledger.release(hold)))).await.map(|_| ())
    }

    async fn commit(&self, sku: &Sku, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation]) -> Result<(), PortError<StockError>> {
        let now = self.now();
        let committed = || self.with_stock(sku, |s| in_memory(s.ledger.commit(order, hold, allocations, now)).answer());
        refused(self.call(|| format!("commit {sku} {order:?}"), committed).await)
    }

    /// One call per SKU, one after another (the worker's objects keep a style's SKUs
    /// together, so a crash may fall between any two SKUs' takes).
    async fn take(&self, order: &OrderRef, hold: &HoldRef, lines: &[(Sku, Vec<Allocation>)]) -> Vec<Result<Commitment, PortError<StockError>>> {
        let mut answers = Vec::with_capacity(lines.len());
        for (sku, allocations) in lines {
            let now = self.now();
            let taken = || self.with_stock(sku, |s| in_memory(s.ledger.take(order, hold, allocations, now)).map_err(|short| StockError::Shortage { short }));
            answers.push(refused(self.call(|| format!("take {sku} {order:?} {allocations:?}"), taken).await));
        }
        answers
    }

    async fn withdraw(&self, order: &OrderRef, lines: &[(Sku, Option<HoldAgain>)]) -> Result<(), Unavailable> {
        for (sku, keep) in lines {
            let now = self.now();
            let keep = keep.as_ref().map(|(hold, until)| (hold, *until));
            self.call(|| format!("withdraw {sku} {order:?} keep {keep:?}"), || self.with_stock(sku, |s| in_memory(s.ledger.withdraw(order, keep, now)))).await?;
        }
        Ok(())
    }

    async fn hand_over(&self, sku: &Sku, order: &OrderRef) -> Result<(), PortError<StockError>> {
        refused(self.call(|| format!("hand_over {sku} {order:?}"), || self.with_stock(sku, |s| in_memory(s.ledger.hand_over(order)))).await)
    }

    async fn restock(&self, sku: &Sku, order: &OrderRef) -> Result<(), PortError<StockError>> {
        refused(self.call(|| format!("restock {sku} {order:?}"), || self.with_stock(sku, |s| in_memory(s.ledger.restock(order)))).await)
    }

    async fn receive_return(&self, sku: &Sku, receipt: &OrderRef, at: &LocationId, quantity: PositiveQuantity) -> Result<(), Unavailable> {
        self.call(|| format!("receive_return {sku} {receipt:?}"), || self.with_stock(sku, |s| in_memory(s.ledger.receive_return(receipt, at, quantity)))).await
    }
}

impl CartPort for World {
    async fn cart(&self, id: &CartId) -> Result<Option<Cart>, Unavailable> {
        self.call(|| format!("cart {id}"), || self.carts.borrow().get(id).cloned()).await
    }

    async fn close(&self, id: &CartId, order: &OrderId) -> Result<(), PortError<CartError>> {
        let now = self.now();
        refused(
            self.call(|| format!("close {id} for {order}"), || match self.carts.borrow_mut().get_mut(id) {
                Some(cart) => cart.close(order.clone(), now),
                None => Err(CartError::Closed(id.clone())),
            })
            .await,
        )
    }
}

impl D1 {
    fn stored(&self, id: &OrderId) -> Option<StoredOrder> {
        let row = self.orders.get(id)?;
        let owed = self.owed.iter().filter(|(_, (o, _))| o == id).map(|(seq, (_, effect))| OwedEffect { seq: *seq, effect: effect.clone() }).collect();
        Some(StoredOrder { order: row.order.clone(), revision: row.revision.to_string(), owed })
    }

    fn owe(&mut self, id: &OrderId, effects: &[Effect]) {
        for effect in effects {
            self.next_seq += 1;
            self.owed.insert(self.next_seq, (id.clone(), effect.clone()));
        }
    }

    fn revise(&mut self) -> u64 {
        self.next_revision += 1;
        self.next_revision
    }
}

impl World {
    /// Claims an Idempotency-Key: `None` when this request owns it, else the finished answer.
    fn claim_slot(&self, key: &ClaimKey, order: Option<&OrderId>) -> Result<Option<Answer>, ClaimRefused> {
        let mut d1 = self.d1.borrow_mut();
        let slot = (key.scope.clone(), key.key.clone());
        let now = self.now();
        let mine = ClaimState::Pending { fingerprint: key.fingerprint.clone(), owner: key.owner.clone(), since: now, order: order.cloned() };
        match d1.claims.get(&slot) {
            None => {
                d1.claims.insert(slot, mine);
                Ok(None)
            }
            Some(ClaimState::Pending { fingerprint, .. } | ClaimState::Done { fingerprint, .. }) if *fingerprint != key.fingerprint => Err(ClaimRefused::KeyReused),
            Some(ClaimState::Done { answer, .. }) => Ok(Some(answer.clone())),
            // A stale claim is taken over, whether its placement died or is slow.
            Some(ClaimState::Pending { since, .. }) if now - *since >= Duration::seconds(STALE_CLAIM_SECONDS) => {
                d1.claims.insert(slot, mine);
                Ok(None)
            }
            Some(ClaimState::Pending { .. }) => Err(ClaimRefused::InUse),
        }
    }
}

impl OrderStore for World {
    async fn claim(&self, key: &ClaimKey, placing: &Placing) -> Result<Claimed, PortError<ClaimRefused>> {
        let claimed = || {
            let answer = self.claim_slot(key, Some(&placing.order))?;
            if answer.is_none() {
                self.d1.borrow_mut().owe(&placing.order, &placing.owed);
            }
            let products = self.products.iter().filter(|p| placing.skus.contains(&p.sku)).cloned().collect();
            let claim = match answer {
                Some(Answer::Order(order)) => Claim::Replay(order),
                _ => Claim::Owned,
            };
            Ok(Claimed { claim, products })
        };
        refused(self.call(|| format!("claim {} for {} owing {:?}", key.key, placing.order, placing.owed), claimed).await)
    }

    async fn let_go(&self, key: &ClaimKey, order: &OrderId) -> Result<(), Unavailable> {
        self.call(|| format!("let go of {} and {order}", key.key), || {
            let mut d1 = self.d1.borrow_mut();
            let slot = (key.scope.clone(), key.key.clone());
            if matches!(d1.claims.get(&slot), Some(ClaimState::Pending { owner, .. }) if *owner == key.owner) {
                d1.claims.remove(&slot);
            }
            if !d1.orders.contains_key(order) {
                d1.owed.retain(|_, (o, _)| o != order);
            }
        })
        .await
    }

    async fn unwritten(&self, order: &OrderId) -> Result<Option<Vec<OwedEffect>>, Unavailable> {
        let now = self.now();
        self.call(|| format!("unwritten {order}"), || {
            let mut d1 = self.d1.borrow_mut();
            if d1.orders.contains_key(order) {
                return None;
            }
            for claim in d1.claims.values_mut() {
                if let ClaimState::Pending { owner, since, order: Some(placing), .. } = claim {
                    if placing == order && owner != REVOKED {
                        if now - *since < Duration::seconds(PLACEMENT_HOLD_SECONDS) {
                            return None;
                        }
                        *owner = REVOKED.to_string();
                    }
                }
            }
            Some(d1.owed.iter().filter(|(_, (o, _))| o == order).map(|(seq, (_, effect))| OwedEffect { seq: *seq, effect: effect.clone() }).collect())
        })
        .await
    }

    async fn abandon(&self, key: &ClaimKey) -> Result<(), Unavailable> {
        self.call(|| format!("abandon {}", key.key), || {
            let mut d1 = self.d1.borrow_mut();
            let slot = (key.scope.clone(), key.key.clone());
            if matches!(d1.claims.get(&slot), Some(ClaimState::Pending { owner, .. }) if *owner == key.owner) {
                d1.claims.remove(&slot);
            }
        })
        .await
    }

    async fn products(&self, skus: &[Sku]) -> Result<Vec<Product>, Unavailable> {
        self.call(|| "products".to_string(), || self.products.iter().filter(|p| skus.contains(&p.sku)).cloned().collect()).await
    }

    async fn locations(&self) -> Result<Vec<Location>, Unavailable> {
        self.call(|| "locations".to_string(), || self.locations.clone()).await
    }

    async fn coupon(&self, _code: &CouponCode) -> Result<Option<Coupon>, Unavailable> {
        self.call(|| "coupon".to_string(), || None).await
    }

    async fn customer_exists(&self, _id: &CustomerId) -> Result<bool, Unavailable> {
        self.call(|| "customer_exists".to_string(), || false).await
    }

    async fn customer_with_email(&self, _email: &Email) -> Result<Option<CustomerId>, Unavailable> {
        self.call(|| "customer_with_email".to_string(), || None).await
    }

    async fn insert(&self, order: &Order, owed: &[Effect], claim: &ClaimKey) -> Result<StoredOrder, PortError<WriteRefused>> {
        refused(
            self.call(|| format!("insert {} owing {owed:?}", order.id), || {
                let mut d1 = self.d1.borrow_mut();
                let slot = (claim.scope.clone(), claim.key.clone());
                if !matches!(d1.claims.get(&slot), Some(ClaimState::Pending { owner, .. }) if *owner == claim.owner) {
                    return Err(WriteRefused::ClaimLost);
                }
                if let Some(cart) = &order.cart_id {
                    if d1.orders.values().any(|r| r.order.cart_id.as_ref() == Some(cart)) {
                        return Err(WriteRefused::CartAlreadyOrdered);
                    }
                }
                d1.written.entry(slot).or_default().push(order.id.clone());
                let revision = d1.revise();
                d1.orders.insert(order.id.clone(), Row { order: order.clone(), revision });
                // What it owed while being placed is forgiven: its units are the order's.
                d1.owed.retain(|_, (o, _)| *o != order.id);
                d1.owe(&order.id, owed);
                d1.claims.insert(
                    (claim.scope.clone(), claim.key.clone()),
                    ClaimState::Done { fingerprint: claim.fingerprint.clone(), answer: Answer::Order(Box::new(order.clone())) },
                );
                Ok(d1.stored(&order.id).expect("just inserted"))
            })
            .await,
        )
    }

    async fn order(&self, id: &OrderId) -> Result<Option<StoredOrder>, Unavailable> {
        self.call(|| format!("order {id}"), || self.d1.borrow().stored(id)).await
    }

    async fn update(&self, order: &Order, revision: &str, owed: &[Effect], before: OwedBefore) -> Result<Option<StoredOrder>, Unavailable> {
        self.call(|| format!("update {} to {} at {revision} ({before:?}) owing {owed:?}", order.id, order.status), || {
            let mut d1 = self.d1.borrow_mut();
            let current = d1.orders.get(&order.id).map(|r| r.revision.to_string());
            let owes = d1.owed.values().any(|(o, _)| *o == order.id);
            if current.as_deref() != Some(revision) || (before == OwedBefore::MustBeSettled && owes) {
                return None;
            }
            if before == OwedBefore::Replaced {
                d1.owed.retain(|_, (o, _)| *o != order.id);
            }
            let revision = d1.revise();
            d1.orders.insert(order.id.clone(), Row { order: order.clone(), revision });
            d1.owe(&order.id, owed);
            d1.stored(&order.id)
        })
        .await
    }

    async fn settled(&self, _order: &OrderId, seqs: &[i64]) -> Result<(), Unavailable> {
        self.call(|| format!("settled {_order} {seqs:?}"), || {
            let mut d1 = self.d1.borrow_mut();
            for seq in seqs {
                d1.owed.remove(seq);
            }
        })
        .await
    }

    async fn owing(&self, limit: u32) -> Result<Vec<OrderId>, Unavailable> {
        self.call(|| "owing".to_string(), || {
            let d1 = self.d1.borrow();
            let mut ids: Vec<OrderId> = Vec::new();
            for (order, _) in d1.owed.values() {
                if !ids.contains(order) {
                    ids.push(order.clone());
                }
            }
            ids.truncate(limit as usize);
            ids
        })
        .await
    }
}

impl ReturnStore for World {
    async fn claim_step(&self, key: &ClaimKey) -> Result<ReturnClaim, PortError<ClaimRefused>> {
        refused(self.call(|| format!("claim return step {}", key.key), || self.claim_slot(key, None)).await).map(|answer| match answer {
            Some(Answer::Return(ret)) => ReturnClaim::Replay(ret),
            _ => ReturnClaim::Owned,
        })
    }

    async fn order_with_returns(&self, order: &OrderId) -> Result<Option<(StoredOrder, Vec<Return>)>, Unavailable> {
        self.call(|| format!("order {order} with its returns"), || {
            let d1 = self.d1.borrow();
            d1.stored(order).map(|stored| (stored, d1.returns.values().filter(|r| &r.order_id == order).cloned().collect()))
        })
        .await
    }

    async fn return_by_id(&self, id: &ReturnId) -> Result<Option<Return>, Unavailable> {
        self.call(|| format!("return {id}"), || self.d1.borrow().returns.get(id).cloned()).await
    }

    async fn write(&self, w: ReturnWrite<'_>) -> Result<ReturnWritten, PortError<ReturnWriteRefused>> {
        refused(
            self.call(|| format!("write return {} at {} ({:?}) owing {:?}", w.ret.id, w.order_revision, w.ret.state.status(), w.owed), || {
                let mut d1 = self.d1.borrow_mut();
                let slot = (w.claim.scope.clone(), w.claim.key.clone());
                let owned = matches!(d1.claims.get(&slot), Some(ClaimState::Pending { owner, .. }) if *owner == w.claim.owner);
                let order_id = w.ret.order_id.clone();
                let current = d1.orders.get(&order_id).map(|r| r.revision.to_string());
                if !owned || current.as_deref() != Some(w.order_revision) {
                    return Err(ReturnWriteRefused::Changed);
                }
                let revision = d1.revise();
                if let Some(row) = d1.orders.get_mut(&order_id) {
                    row.revision = revision;
                }
                d1.returns.insert(w.ret.id.clone(), w.ret.clone());
                let first = d1.next_seq + 1;
                d1.owe(&order_id, w.owed);
                let owed = d1.owed.range(first..).map(|(seq, (_, effect))| OwedEffect { seq: *seq, effect: effect.clone() }).collect();
                let linked = w.linked.map(|(linked, owed)| {
                    let revision = d1.revise();
                    d1.orders.insert(linked.id.clone(), Row { order: linked.clone(), revision });
                    d1.owe(&linked.id, owed);
                    d1.stored(&linked.id).expect("just inserted")
                });
                if w.coupon.is_some() {
                    d1.coupons_issued.push(w.ret.id.clone());
                }
                d1.claims.insert(slot, ClaimState::Done { fingerprint: w.claim.fingerprint.clone(), answer: Answer::Return(Box::new(w.ret.clone())) });
                Ok(ReturnWritten { order_revision: revision.to_string(), owed, linked })
            })
            .await,
        )
    }
}

impl Ports for World {
    type Orders = World;
    type Returns = World;
    type Stock = World;
    type Carts = World;
    fn orders(&self) -> &World {
        self
    }
    fn returns(&self) -> &World {
        self
    }
    fn stock(&self) -> &World {
        self
    }
    fn carts(&self) -> &World {
        self
    }
    fn now(&self) -> DateTime<Utc> {
        self.now.get()
    }
}

// ---------------------------------------------------------------- the scenario

fn sku(n: usize) -> Sku {
    Sku::parse(&format!("SHOE-{n}")).expect("valid sku")
}

fn location(id: &str, kind: &str, km_north: f64, pickup: bool) -> Location {
    let draft = serde_json::json!({
        "name": id, "kind": kind, "ships_orders": true, "offers_pickup": pickup,
        "address": { "line1": "Damrak 1", "city": "Amsterdam", "postal_code": "1012 AB", "country": "NL" },
        "latitude": 52.0 + km_north / 111.2, "longitude": 5.0,
    });
    Location::from_draft(LocationId::parse(id).expect("valid id"), serde_json::from_value(draft).expect("valid location"), "2026-01-01T00:00:00Z".into())
}

fn product(sku: Sku) -> Product {
    let draft = serde_json::json!({ "style": "RUNNER", "name": "Runner", "color": "black", "size": "42", "price": { "amount": "50.00", "currency": "EUR" } });
    Product::from_draft(sku, serde_json::from_value(draft).expect("valid product"), "2026-01-01T00:00:00Z".into())
}

const STORES: [&str; 2] = ["store-a", "store-b"];
const WAREHOUSE: &str = "depot";

/// A placement the scenario makes, remembered to check its outcome.
#[derive(Clone)]
struct Attempt {
    request: PlacementRequest,
    lines: Vec<(Sku, PositiveQuantity)>,
    fulfilment: FulfilmentRequest,
    /// Units freed (per SKU and location) when it started.
    freed_at_start: HashMap<(Sku, LocationId), u32>,
}

enum Task {
    Place(usize),
    /// The client sends attempt `n` again while the first may still be running.
    Retry(usize),
    Move,
    Read,
    Sweep,
}

type Flow<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;

fn world(rng: &mut Rng, fault_percent: u64) -> World {
    let skus: Vec<Sku> = (0..1 + rng.below(3)).map(sku).collect();
    let locations = vec![location(STORES[0], "store", 1.0, true), location(STORES[1], "store", 4.0, true), location(WAREHOUSE, "warehouse", 30.0, false)];
    let now = DateTime::from_timestamp(START, 0).expect("valid time");
    let mut stock = BTreeMap::new();
    for s in &skus {
        let mut ledger = StockLedger::default();
        for l in &locations {
            let units = rng.below(4) as i64;
            in_memory(ledger.adjust(&l.id, StockChange::Set(Quantity::new(units).expect("small")), now)).expect("set stock");
        }
        stock.insert(s.clone(), SkuStock { ledger });
    }
    World {
        rng: RefCell::new(rng.clone()),
        fault_percent: Cell::new(fault_percent),
        now: Cell::new(now),
        d1: RefCell::new(D1::default()),
        stock: RefCell::new(stock),
        carts: RefCell::new(BTreeMap::new()),
        products: skus.into_iter().map(product).collect(),
        locations,
        freed: RefCell::new(HashMap::new()),
        last_available: RefCell::new(HashMap::new()),
        recent: RefCell::new(HashMap::new()),
        crashed: Cell::new(false),
        trace: std::env::var("SIMULATION_TRACE").is_ok(),
        owners: Cell::new(0),
    }
}

/// An open web cart with a line held where most is available, as the cart routes do.
fn open_cart(world: &World, rng: &mut Rng, n: usize) -> Option<CartId> {
    let id = CartId::parse(&format!("cart_{n}")).expect("valid id");
    let now = world.now();
    let sku = world.products[rng.below(world.products.len())].sku.clone();
    let quantity = PositiveQuantity::new(1 + rng.below(2) as i64).expect("small");
    let draft = serde_json::from_value(serde_json::json!({ "channel": "web" })).expect("valid cart draft");
    let origin = serde_json::from_value(serde_json::json!({ "channel": "web" })).expect("valid origin");
    let mut cart = Cart::open(id.clone(), origin, draft, &crate::access::cart_token::CartToken::from_random_hex("00"), CART_HOLD_SECONDS as u32, Default::default(), now);
    let eligible = cart.hold_locations(&world.locations);
    let expires = now + Duration::seconds(CART_HOLD_SECONDS);
    let held_at = world.with_stock(&sku, |s| in_memory(s.ledger.hold_anywhere(&cart.hold_ref(), quantity, &eligible, now, expires))).ok()?;
    cart.set_line(CartLine { sku, quantity, held_at: Some(held_at), hold_expires_at: Some(expires) }, now).ok()?;
    world.carts.borrow_mut().insert(id.clone(), cart);
    Some(id)
}

fn attempt(world: &World, rng: &mut Rng, n: usize, cart: Option<CartId>) -> Attempt {
    let (caller, fulfilment) = match rng.below(3) {
        0 => (Principal::Storefront { key_id: "web".into(), channel: crate::shared::channel::Channel::Web }, serde_json::json!({ "type": "delivery",
            "address": { "line1": "Oudegracht 1", "city": "Utrecht", "postal_code": "3511 AA", "country": "NL" }, "latitude": 52.0, "longitude": 5.0 })),
        1 => (Principal::Admin { key_id: "callcentre".into() }, serde_json::json!({ "type": "pickup", "location_id": STORES[rng.below(2)] })),
        _ => {
            let store = STORES[rng.below(2)];
            (Principal::Store { key_id: format!("till-{store}"), location_id: LocationId::parse(store).expect("valid id") }, serde_json::json!({ "type": "in_store" }))
        }
    };
    let mut body = serde_json::json!({ "fulfilment": fulfilment, "payment": { "method": "prepaid" } });
    let lines: Vec<(Sku, PositiveQuantity)> = match &cart {
        Some(id) => {
            body["cart_id"] = id.as_str().into();
            world.carts.borrow()[id].lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect()
        }
        None => {
            if matches!(caller, Principal::Admin { .. }) {
                body["channel"] = "call_centre".into();
            }
            let mut picked: Vec<(Sku, PositiveQuantity)> = Vec::new();
            for p in &world.products {
                if picked.is_empty() || rng.chance(40) {
                    picked.push((p.sku.clone(), PositiveQuantity::new(1 + rng.below(2) as i64).expect("small")));
                }
            }
            body["lines"] = picked.iter().map(|(s, q)| serde_json::json!({ "sku": s.as_str(), "quantity": q.get() })).collect();
            picked
        }
    };
    let draft: OrderDraft = serde_json::from_value(body).expect("valid order draft");
    let pos = match &caller {
        Principal::Store { location_id, .. } => Some(location_id.clone()),
        _ => None,
    };
    let fulfilment = draft.fulfilment.clone().resolve(pos).expect("resolvable fulfilment");
    let request = PlacementRequest {
        order_id: OrderId::parse(&format!("ord_{n}")).expect("valid id"),
        claim: ClaimKey { scope: format!("{}:orders", caller.key_id()), key: format!("key-{n}"), fingerprint: format!("body-{n}"), owner: String::new() },
        draft,
        caller,
        tariff: DeliveryTariff::parse("flat:4.95").expect("valid tariff"),
    };
    Attempt { request, lines, fulfilment, freed_at_start: HashMap::new() }
}

/// A random order id among those written so far.
fn some_order(world: &World) -> Option<OrderId> {
    let d1 = world.d1.borrow();
    let n = d1.orders.len();
    (n > 0).then(|| d1.orders.keys().nth(world.rng.borrow_mut().below(n)).cloned()).flatten()
}

/// What a refused placement could have had: units available at the end that were not
/// freed after it started (so available all through it).
fn could_have_had(world: &World, attempt: &Attempt) -> Option<String> {
    let now = world.now();
    let freed = world.freed.borrow();
    let stock = world.stock.borrow();
    let mut availability: Availability = HashMap::new();
    for (sku, _) in &attempt.lines {
        let levels = stock.get(sku).map(|s| in_memory(s.ledger.view(now))).unwrap_or_default();
        let at = availability.entry(sku.clone()).or_default();
        for level in levels {
            let key = (sku.clone(), level.location_id.clone());
            let since = freed.get(&key).copied().unwrap_or(0) - attempt.freed_at_start.get(&key).copied().unwrap_or(0);
            at.insert(level.location_id, level.available.saturating_sub(since));
        }
    }
    allocate(&attempt.lines, &availability, &world.locations, &attempt.fulfilment).ok().map(|a| format!("{a:?}"))
}

/// Runs one seed; `Err` describes the first broken invariant.
fn run(seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed);
    let fault_percent = [0, 3, 8, 15][rng.below(4)];
    let world = world(&mut rng, fault_percent);
    let initial = totals(&world);

    let mut attempts: Vec<Attempt> = Vec::new();
    let mut tasks: Vec<Task> = Vec::new();
    for n in 0..3 + rng.below(6) {
        let cart = if rng.chance(30) { open_cart(&world, &mut rng, n) } else { None };
        attempts.push(attempt(&world, &mut rng, n, cart));
        tasks.push(Task::Place(n));
        if rng.chance(25) {
            tasks.push(Task::Retry(n));
        }
    }
    for _ in 0..1 + rng.below(3) {
        tasks.push(Task::Move);
    }
    for _ in 0..rng.below(3) {
        tasks.push(if rng.chance(50) { Task::Read } else { Task::Sweep });
    }
    world.observe();
    let outcomes: RefCell<HashMap<usize, Result<(), PlacementError>>> = RefCell::new(HashMap::new());
    let attempts = RefCell::new(attempts);

    // Every flow at once, interleaved and crashed at the seed's whim.
    let flows: Vec<Flow> = tasks.iter().map(|task| flow(&world, task, &attempts, &outcomes)).collect();
    schedule(&world, &mut rng, flows)?;

    // Recovery: clients retry what died, the clock moves on, the sweeper runs, no faults.
    world.fault_percent.set(0);
    world.now.set(world.now() + Duration::hours(2));
    world.observe();
    let retries: Vec<Flow> = (0..attempts.borrow().len())
        .filter(|n| !outcomes.borrow().contains_key(n))
        .map(|n| flow(&world, &Task::Place(n), &attempts, &outcomes))
        .collect();
    schedule(&world, &mut rng, retries)?;
    let report = block_on(sweep(&world, 1000)).map_err(|e| format!("sweep: {e}"))?;
    if let Some((id, e)) = report.failed.first() {
        return Err(format!("the sweeper could not settle {id}: {e}"));
    }
    world.observe();

    // Invariants.
    if let Some((slot, ids)) = world.d1.borrow().written.iter().find(|(_, ids)| ids.len() > 1) {
        return Err(format!("one Idempotency-Key, several orders: {slot:?} wrote {ids:?}"));
    }
    if let Some((seq, (id, effect))) = world.d1.borrow().owed.iter().next() {
        return Err(format!("still owed after the sweeper: #{seq} of {id}: {effect:?}"));
    }
    if totals(&world) != initial {
        return Err(format!("units not conserved: {:?} became {:?}", initial, totals(&world)));
    }
    check_commitments(&world)?;
    returns_phase(&world, &mut rng)?;
    for (n, outcome) in outcomes.borrow().iter() {
        if let Err(PlacementError::Allocation(e)) = outcome {
            let attempt = &attempts.borrow()[*n];
            if let Some(allocation) = could_have_had(&world, attempt) {
                return Err(format!("false shortage: placement {n} was refused ({e}) while {allocation} stayed available"));
            }
        }
    }
    Ok(())
}

/// Per SKU and location: on hand + committed + handed over, which only adjustments change.
fn totals(world: &World) -> BTreeMap<(Sku, LocationId), u32> {
    let now = world.now();
    let mut totals = BTreeMap::new();
    for (sku, s) in world.stock.borrow().iter() {
        for level in in_memory(s.ledger.view(now)) {
            *totals.entry((sku.clone(), level.location_id)).or_default() += level.on_hand + level.committed;
        }
        for commitment in s.commitments().values() {
            if let Commitment::HandedOver { allocations } = commitment {
                for a in allocations {
                    *totals.entry((sku.clone(), a.location_id.clone())).or_default() += a.quantity.get();
                }
            }
        }
    }
    totals
}

/// Every commitment belongs to a written order and agrees with its status and allocation;
/// every written order's units are where its status says; committed counts add up.
fn check_commitments(world: &World) -> Result<(), String> {
    let d1 = world.d1.borrow();
    let stock = world.stock.borrow();
    let now = world.now();
    for (sku, s) in stock.iter() {
        // An order never written may have been taken, but must end with nothing
        // committed: voided, or restocked.
        for (order_ref, commitment) in s.commitments() {
            let written = d1.orders.values().any(|r| r.order.order_ref() == *order_ref);
            if !written && !matches!(commitment, Commitment::Void | Commitment::Restocked { .. }) {
                return Err(format!("{sku}: commitment {commitment:?} for {order_ref:?}, which no written order has: stranded"));
            }
        }
        let mut committed: HashMap<LocationId, u32> = HashMap::new();
        for c in s.commitments().values() {
            if let Commitment::Committed { allocations } = c {
                for a in allocations {
                    *committed.entry(a.location_id.clone()).or_default() += a.quantity.get();
                }
            }
        }
        for level in in_memory(s.ledger.view(now)) {
            if level.committed != committed.get(&level.location_id).copied().unwrap_or(0) {
                return Err(format!("{sku} at {}: {} committed, but commitments add up to {:?}", level.location_id, level.committed, committed.get(&level.location_id)));
            }
        }
    }
    for row in d1.orders.values() {
        let order = &row.order;
        for (sku, allocations) in per_sku(&order.allocations) {
            let commitment = stock.get(&sku).and_then(|s| s.commitments().get(&order.order_ref()));
            let agrees = match (order.status, commitment) {
                (OrderStatus::Placed | OrderStatus::ReadyForPickup, Some(Commitment::Committed { allocations: a })) => *a == allocations,
                (OrderStatus::Collected | OrderStatus::Shipped | OrderStatus::Delivered, Some(Commitment::HandedOver { allocations: a })) => *a == allocations,
                (OrderStatus::Cancelled, Some(Commitment::Restocked { allocations: a })) => *a == allocations,
                (OrderStatus::Cancelled, Some(Commitment::Void | Commitment::Refused { .. })) => true,
                _ => false,
            };
            if !agrees {
                return Err(format!("order {} is {} but its {sku} units are {commitment:?}", order.id, order.status));
            }
        }
    }
    Ok(())
}

fn return_settings() -> ReturnSettings {
    ReturnSettings { policy: Default::default(), goodwill: Default::default(), replacement_hold: Duration::days(3), opening_hold: Duration::seconds(6) }
}

/// Opens `request` as `id` under the Idempotency-Key `key`, as a new request.
fn open_flow<'a>(world: &'a World, id: ReturnId, request: ReturnRequest, key: String) -> Flow<'a> {
    Box::pin(async move {
        let claim = ClaimKey { scope: "sim:returns".into(), key: key.clone(), fingerprint: format!("{request:?}"), owner: world.new_owner() };
        let actor = Actor { by: "sim", channel: None, authorize: |_: &Order| Ok(()) };
        match crate::workflows::returns::open(world, id, request, &claim, &return_settings(), actor).await {
            Err(crate::workflows::returns::ReturnFlowError::Settle(e @ SettleError::Refused { .. })) => Err(format!("opening under {key}: {e}")),
            _ => Ok(()),
        }
    })
}

/// Receives a requested return (picked at random), each line in a random condition,
/// under one of two keys per return.
fn receive_flow(world: &World) -> Flow<'_> {
    Box::pin(async move {
        let picked = {
            let d1 = world.d1.borrow();
            let requested: Vec<&Return> = d1.returns.values().filter(|r| r.state == ReturnState::Requested).collect();
            let mut rng = world.rng.borrow_mut();
            (!requested.is_empty()).then(|| {
                let ret = requested[rng.below(requested.len())];
                let conditions: Vec<(Sku, Condition)> =
                    ret.lines.iter().map(|l| (l.sku.clone(), if rng.chance(30) { Condition::Damaged } else { Condition::Resellable })).collect();
                (ret.id.clone(), conditions, rng.below(2))
            })
        };
        let Some((id, conditions, key)) = picked else { return Ok(()) };
        let at = LocationId::parse(STORES[1]).expect("valid id");
        let claim = ClaimKey { scope: "sim:receive".into(), key: format!("receive-{id}-{key}"), fingerprint: format!("{conditions:?}"), owner: world.new_owner() };
        let actor = Actor { by: "sim", channel: None, authorize: |_: &Return| Ok(()) };
        match crate::workflows::returns::step(world, &id, Step::Receive { at, conditions }, &claim, actor).await {
            Err(crate::workflows::returns::ReturnFlowError::Settle(e @ SettleError::Refused { .. })) => Err(format!("receiving {id}: {e}")),
            _ => Ok(()),
        }
    })
}

/// Cancels a requested return (picked at random), under one key per return.
fn cancel_flow(world: &World) -> Flow<'_> {
    Box::pin(async move {
        let picked = {
            let d1 = world.d1.borrow();
            let requested: Vec<&ReturnId> = d1.returns.values().filter(|r| r.state == ReturnState::Requested).map(|r| &r.id).collect();
            (!requested.is_empty()).then(|| requested[world.rng.borrow_mut().below(requested.len())].clone())
        };
        let Some(id) = picked else { return Ok(()) };
        let claim = ClaimKey { scope: "sim:cancel".into(), key: format!("cancel-{id}"), fingerprint: "cancel".into(), owner: world.new_owner() };
        let actor = Actor { by: "sim", channel: None, authorize: |_: &Return| Ok(()) };
        match crate::workflows::returns::step(world, &id, Step::Cancel, &claim, actor).await {
            Err(crate::workflows::returns::ReturnFlowError::Settle(e @ SettleError::Refused { .. })) => Err(format!("cancelling {id}: {e}")),
            _ => Ok(()),
        }
    })
}

/// Returns some handed-over orders while everything crashes, recovers, and checks the
/// returns' invariants.
fn returns_phase(world: &World, rng: &mut Rng) -> Result<(), String> {
    let handed: Vec<Order> = world.d1.borrow().orders.values().filter(|r| r.order.status.is_handed_over()).map(|r| r.order.clone()).take(3).collect();
    if handed.is_empty() {
        return Ok(());
    }
    let before = totals(world);
    let mut opens: Vec<(ReturnId, ReturnRequest, String)> = Vec::new();
    for (n, order) in handed.iter().enumerate() {
        let mut lines: Vec<LineRequest> = Vec::new();
        for l in order.lines.iter() {
            if rng.chance(70) {
                lines.push(LineRequest {
                    sku: l.sku.clone(),
                    quantity: PositiveQuantity::new(1 + rng.below(l.quantity.get() as usize) as i64).expect("small"),
                    reason: if rng.chance(50) { ReturnReason::Defective } else { ReturnReason::WrongSize },
                    // An exchange for any SKU of the world (one style, one price), held where received.
                    replacement_sku: rng.chance(40).then(|| world.products[rng.below(world.products.len())].sku.clone()),
                });
            }
        }
        let request = ReturnRequest { order_id: order.id.clone(), location_id: LocationId::parse(STORES[1]).expect("valid id"), lines, received: None };
        for (k, key) in ["a", "a", "b"].iter().enumerate() {
            opens.push((ReturnId::parse(&format!("ret_{n}_{k}")).expect("valid id"), request.clone(), format!("return-{n}-{key}")));
        }
    }
    world.fault_percent.set([3, 8, 15][rng.below(3)]);
    let mut flows: Vec<Flow> = opens.iter().map(|(id, request, key)| open_flow(world, id.clone(), request.clone(), key.clone())).collect();
    flows.extend((0..3).map(|_| receive_flow(world)));
    flows.extend((0..2).map(|_| cancel_flow(world)));
    schedule(world, rng, flows)?;

    // Recovery: every request sent again (a replay, a refusal, or the return at last), every return received, the sweeper.
    world.fault_percent.set(0);
    world.now.set(world.now() + Duration::hours(1));
    let retries: Vec<Flow> = opens.iter().map(|(id, request, key)| open_flow(world, ReturnId::parse(&format!("{id}_again")).expect("valid id"), request.clone(), key.clone())).collect();
    schedule(world, rng, retries)?;
    let pending = world.d1.borrow().returns.values().filter(|r| r.state == ReturnState::Requested).count();
    schedule(world, rng, (0..pending * 2).map(|_| receive_flow(world)).collect())?;
    let report = block_on(sweep(world, 1000)).map_err(|e| format!("sweep: {e}"))?;
    if let Some((id, e)) = report.failed.first() {
        return Err(format!("the sweeper could not settle {id} after returns: {e}"));
    }
    check_returns(world, &handed, &before)
}

fn check_returns(world: &World, handed: &[Order], before: &BTreeMap<(Sku, LocationId), u32>) -> Result<(), String> {
    let d1 = world.d1.borrow();
    if let Some((seq, (id, effect))) = d1.owed.iter().next() {
        return Err(format!("still owed after returns and the sweeper: #{seq} of {id}: {effect:?}"));
    }
    for (n, order) in handed.iter().enumerate() {
        let key_a = [format!("ret_{n}_0"), format!("ret_{n}_1"), format!("ret_{n}_0_again"), format!("ret_{n}_1_again")];
        let under_a = d1.returns.keys().filter(|id| key_a.iter().any(|a| a == id.as_str())).count();
        if under_a > 1 {
            return Err(format!("one Idempotency-Key opened {under_a} returns of {}", order.id));
        }
        for line in &order.lines {
            let returned: u32 = d1.returns.values().filter(|r| r.order_id == order.id && r.counts()).flat_map(|r| &r.lines).filter(|l| l.sku == line.sku).map(|l| l.quantity.get()).sum();
            if returned > line.quantity.get() {
                return Err(format!("{returned} units of {} returned from {}, which handed over {}", line.sku, order.id, line.quantity.get()));
            }
        }
    }
    let stock = world.stock.borrow();
    let mut received: BTreeMap<(Sku, LocationId), u32> = BTreeMap::new();
    for ret in d1.returns.values() {
        let receipt = match &ret.state {
            ReturnState::Received { receipt } | ReturnState::Refunded { receipt, .. } => Some(receipt),
            _ => None,
        };
        for line in &ret.lines {
            let condition = receipt.and_then(|r| r.lines.iter().find(|l| l.sku == line.sku)).map(|l| l.condition);
            let commitment = stock.get(&line.sku).and_then(|s| s.commitments().get(&ret.receipt_ref(&line.sku)).cloned());
            let at = receipt.map(|r| r.location_id.clone());
            let expected = match (condition, &at) {
                (Some(Condition::Resellable), Some(at)) => {
                    *received.entry((line.sku.clone(), at.clone())).or_default() += line.quantity.get();
                    Some(Commitment::Returned { allocations: vec![Allocation { location_id: at.clone(), quantity: line.quantity }] })
                }
                _ => None,
            };
            if commitment != expected {
                return Err(format!("return {} line {} is {:?} ({condition:?}) but its stock shows {commitment:?}", ret.id, line.sku, ret.state.status()));
            }
        }
        if let Some(replacement) = &ret.replacement {
            let hold = crate::sales::placement::direct_hold_ref(&replacement.order_id);
            let held: u32 = replacement
                .lines
                .iter()
                .flat_map(|l| stock.get(&l.sku).map(|s| in_memory(s.ledger.holds_of(&hold, world.now()))).unwrap_or_default())
                .map(|a| a.quantity.get())
                .sum();
            let linked = d1.orders.get(&replacement.order_id).map(|r| r.order.status);
            let settled = match ret.state.status() {
                ReturnStatus::Requested => linked.is_none(),
                ReturnStatus::Cancelled | ReturnStatus::Rejected => held == 0 && linked.is_none(),
                ReturnStatus::Received | ReturnStatus::Refunded => held == 0 && matches!(linked, Some(OrderStatus::Collected | OrderStatus::Cancelled)),
            };
            if !settled {
                return Err(format!("return {} is {:?}: its replacement holds {held} units and its linked order is {linked:?}", ret.id, ret.state.status()));
            }
        }
        let issued = d1.coupons_issued.iter().filter(|id| **id == ret.id).count();
        let earns = usize::from(receipt.is_some() && ret.goodwill.is_some());
        if issued != earns {
            return Err(format!("return {} ({:?}) issued {issued} goodwill coupons, not {earns}", ret.id, ret.state.status()));
        }
    }
    let mut expected = before.clone();
    for (key, units) in received {
        *expected.entry(key).or_default() += units;
    }
    let after = totals(world);
    if after != expected {
        return Err(format!("after returns, units are {after:?}, not {expected:?}"));
    }
    Ok(())
}

fn flow<'a>(world: &'a World, task: &Task, attempts: &'a RefCell<Vec<Attempt>>, outcomes: &'a RefCell<HashMap<usize, Result<(), PlacementError>>>) -> Flow<'a> {
    match *task {
        Task::Retry(n) => Box::pin(async move {
            // A new request: its own order id and claim owner, the same key and body.
            let mut request = attempts.borrow()[n].request.clone();
            request.order_id = OrderId::parse(&format!("{}_again", request.order_id)).expect("valid id");
            request.claim.owner = world.new_owner();
            match place(world, request).await {
                Err(PlacementError::Settle(e @ SettleError::Refused { .. })) => Err(format!("retry of placement {n}: {e}")),
                _ => Ok(()),
            }
        }),
        Task::Place(n) => Box::pin(async move {
            let request = {
                let mut attempts = attempts.borrow_mut();
                attempts[n].freed_at_start = world.freed.borrow().clone();
                let mut request = attempts[n].request.clone();
                // Every request has an order id of its own, as in the worker: what an
                // attempt owes while placing is recorded under it.
                request.claim.owner = world.new_owner();
                request.order_id = OrderId::parse(&format!("{}_{}", request.order_id, request.claim.owner)).expect("valid id");
                request
            };
            let outcome = place(world, request).await;
            match outcome {
                // Failures midway are retried by the client in recovery.
                Err(PlacementError::Unavailable(_) | PlacementError::Settle(SettleError::Unavailable(_))) => {}
                Err(PlacementError::Claim(ClaimRefused::InUse)) => {}
                Err(PlacementError::Settle(e @ SettleError::Refused { .. })) => return Err(format!("placement {n}: {e}")),
                other => {
                    outcomes.borrow_mut().insert(n, other.map(|_| ()));
                }
            }
            Ok(())
        }),
        Task::Move => Box::pin(async move {
            for _ in 0..6 {
                let Some(id) = some_order(world) else { YieldOnce(false).await; continue };
                let action = OrderAction::ALL[world.rng.borrow_mut().below(OrderAction::ALL.len())];
                if let Err(crate::workflows::lifecycle::MoveError::Settle(e @ SettleError::Refused { .. })) = move_on(world, &id, action, "sim", |_| Ok(())).await {
                    return Err(format!("moving {id}: {e}"));
                }
            }
            Ok(())
        }),
        Task::Read => Box::pin(async move {
            if let Some(id) = some_order(world) {
                let _ = read(world, &id).await;
            }
            Ok(())
        }),
        Task::Sweep => Box::pin(async move {
            if let Ok(report) = sweep(world, 10).await {
                if let Some((id, e @ SettleError::Refused { .. })) = report.failed.first() {
                    return Err(format!("sweeping {id}: {e}"));
                }
            }
            Ok(())
        }),
    }
}

/// Polls the flows in a seeded random order until each has ended or crashed; the clock
/// moves a little with every step.
fn schedule(world: &World, rng: &mut Rng, mut flows: Vec<Flow>) -> Result<(), String> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut steps = 0;
    while !flows.is_empty() {
        steps += 1;
        if steps > 100_000 {
            return Err("flows did not finish".into());
        }
        world.now.set(world.now() + Duration::milliseconds(200));
        let i = rng.below(flows.len());
        world.crashed.set(false);
        match flows[i].as_mut().poll(&mut cx) {
            Poll::Ready(result) => {
                drop(flows.swap_remove(i));
                result?;
            }
            Poll::Pending if world.crashed.get() => drop(flows.swap_remove(i)),
            Poll::Pending => {}
        }
    }
    Ok(())
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}


#[test]
fn workflows_converge_under_crashes_from_every_seed() {
    if let Ok(seed) = std::env::var("SIMULATION_SEED") {
        let seed: u64 = seed.parse().expect("SIMULATION_SEED is a number");
        if let Err(broken) = run(seed) {
            panic!("seed {seed}: {broken}");
        }
        return;
    }
    let seeds: u64 = std::env::var("SIMULATION_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let failures: Vec<String> = (0..seeds).filter_map(|seed| run(seed).err().map(|e| format!("seed {seed}: {e}"))).collect();
    assert!(
        failures.is_empty(),
        "{} of {seeds} seeds broke an invariant (replay one with SIMULATION_SEED=<seed>):\n{}",
        failures.len(),
        failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
}
