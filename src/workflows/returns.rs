//! Returns across D1 and the stock objects. Opening one checks eligibility, fixes the
//! refund and holds the replacement units at the receiving location; receiving it puts
//! resellable units on hand where received, hands the replacement over under a linked
//! in-store order (with any balance due for a dearer replacement) and issues the
//! goodwill coupon; rejecting or cancelling it lets the
//! held units go; refunding records where the money went (store credit is a balance).
//!
//! Every step claims its Idempotency-Key (in one round trip with reading the order and
//! its returns), settles what the return's order still owes,
//! and writes against the order's revision, so two steps on one order (two returns of
//! the same units, with the same key or not; two receipts) never both land: the loser
//! reads again and is answered by the domain. What a step owes the objects is written
//! with it and settled like any order's effects. Opening holds the replacement units
//! only briefly before its write and keeps them held by an owed effect, so an opening
//! that dies strands nothing.

use crate::access::AccessError;
use crate::inventory::ledger::{Allocation, StockError};
use crate::locations::Location;
use crate::returns::exchange::{arrange, linked_order, ExchangeError, GoodwillOffer, GoodwillPolicy, Replacement};
use crate::returns::policy::ReturnPolicy;
use crate::returns::{Condition, Opening, RefundMethod, Return, ReturnError, ReturnRequest};
use crate::sales::placement::{direct_hold_ref, order_ref, Order};
use crate::shared::channel::Channel;
use crate::shared::geo::round_km;
use crate::shared::ids::{LocationId, OrderId, ReturnId, Sku};
use crate::pricing::coupon::Coupon;
use crate::shared::money::Money;
use crate::workflows::effects::{owed_at_placement, owed_at_receipt, replacement_holds, Effect};
use crate::workflows::ports::{
    ClaimKey, ClaimRefused, OrderStore, PortError, Ports, ReadOf, ReturnClaim, ReturnStore, ReturnWrite, ReturnWriteRefused, ReturnWritten, StockPort,
    StoredOrder, Unavailable,
};
use crate::workflows::settlement::{settle, SettleError};
use chrono::{DateTime, Duration, Utc};
use futures_util::future::join_all;
use serde::Serialize;

/// How many times a step reads the order again when another write got there first.
const MAX_ATTEMPTS: usize = 4;

/// The deployment's return rules.
#[derive(Debug, Clone)]
pub struct ReturnSettings {
    pub policy: ReturnPolicy,
    pub goodwill: GoodwillPolicy,
    /// How long replacement units stay held at the receiving location.
    pub replacement_hold: Duration,
    /// How long they are held while the opening is being written.
    pub opening_hold: Duration,
}

/// A location that has a replacement SKU available, for the agent to send the shopper to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearbyStock {
    pub location_id: LocationId,
    pub name: String,
    pub distance_km: f64,
    pub available: u32,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReturnFlowError {
    #[error("no return {0}")]
    NotFound(ReturnId),
    #[error("no order {0}")]
    OrderNotFound(OrderId),
    #[error("no location {0}")]
    LocationNotFound(LocationId),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Return(#[from] ReturnError),
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error("{sku} is not available at {location_id} to set aside; nearest locations that have it are listed")]
    ReplacementUnavailable { sku: Sku, location_id: LocationId, nearest: Vec<NearbyStock> },
    #[error("the replacement units are held at {held_at}: receive the return there")]
    HeldElsewhere { held_at: LocationId },
    #[error("the order kept changing while the return was written; retry")]
    Changed,
    #[error(transparent)]
    Claim(ClaimRefused),
    #[error(transparent)]
    Settle(#[from] SettleError),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl ReturnFlowError {
    /// Whether the domain refused (nothing was written), as opposed to a failure midway.
    fn is_refusal(&self) -> bool {
        !matches!(self, ReturnFlowError::Unavailable(_) | ReturnFlowError::Settle(_))
    }
}

/// A step's answer: the return as written, or as an earlier call with the same key answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answered {
    New(Return),
    Replayed(Return),
}

/// A step after opening.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Receive { at: LocationId, conditions: Vec<(Sku, Condition)> },
    Reject { reason: String },
    Cancel,
    Refund(RefundMethod),
}

/// Who takes a step: the acting key, and the check that it may act on this return.
pub struct Actor<'a, A> {
    pub by: &'a str,
    pub channel: Option<Channel>,
    pub authorize: A,
}

/// Opens a return for `request` as `id`. `authorize` checks the caller against the order.
pub async fn open<P: Ports>(
    ports: &P,
    id: ReturnId,
    request: ReturnRequest,
    claim: &ClaimKey,
    settings: &ReturnSettings,
    actor: Actor<'_, impl Fn(&Order) -> Result<(), AccessError>>,
) -> Result<Answered, ReturnFlowError> {
    claimed(ports, claim, ReadOf::Order(&request.order_id), async |first| {
        let mut read = Some(first);
        for _ in 0..MAX_ATTEMPTS {
            let found = match read.take() {
                Some(found) => found,
                None => ports.returns().order_with_returns(&request.order_id).await?,
            };
            let (stored, earlier) = found.ok_or_else(|| ReturnFlowError::OrderNotFound(request.order_id.clone()))?;
            (actor.authorize)(&stored.order)?;
            let order = &stored.order;
            let now = ports.now();
            let channel = actor.channel.unwrap_or(order.origin.channel());
            let opening = Opening { id: id.clone(), order, earlier: &earlier, policy: &settings.policy, channel, by: actor.by, now };
            let mut ret = Return::open(request.clone(), opening)?;
            known_location(ports, &ret.location_id).await?;
            // The catalog is read only for what an exchange or a gift needs.
            let mut skus: Vec<Sku> = ret.lines.iter().filter_map(|l| l.replacement_sku.clone().map(|r| [l.sku.clone(), r])).flatten().collect();
            if let Some(GoodwillOffer::Gift { sku }) = settings.goodwill.offer_for(&ret) {
                skus.push(sku.clone());
            }
            let products = if skus.is_empty() { Vec::new() } else { ports.orders().products(&skus).await? };
            arrange(&mut ret, order, &products, &settings.goodwill, now, settings.replacement_hold)?;
            if let Some(replacement) = &ret.replacement {
                set_aside(ports, replacement, now + settings.opening_hold).await?;
            }
            // Received on the spot: the goods are back and the replacement handed over at once.
            let (owed, linked, coupon) = match &request.received {
                Some(lines) => {
                    let conditions: Vec<(Sku, Condition)> = lines.iter().map(|l| (l.sku.clone(), l.condition)).collect();
                    ret.receive(ret.location_id.clone(), &conditions, actor.by, now)?;
                    (owed_at_receipt(&ret), linked_order(&ret, order, actor.by, now), ret.goodwill.as_ref().and_then(|g| g.coupon()))
                }
                None => (replacement_holds(&ret, false), None, None),
            };
            let writes = Writes { owed, linked, coupon, store_credit: None };
            if write_step(ports, stored, &ret, writes, claim, 201).await? {
                return Ok(ret);
            }
        }
        Err(ReturnFlowError::Changed)
    })
    .await
}

/// Takes a step on return `id`.
pub async fn step<P: Ports>(
    ports: &P,
    id: &ReturnId,
    step: Step,
    claim: &ClaimKey,
    actor: Actor<'_, impl Fn(&Return) -> Result<(), AccessError>>,
) -> Result<Answered, ReturnFlowError> {
    claimed(ports, claim, ReadOf::Return(id), async |first| {
        let mut read = Some(first);
        let mut order_id = None;
        for _ in 0..MAX_ATTEMPTS {
            // The return read with its order's revision: a step written since moves the
            // revision on, so this step's write cannot land on what it did not see.
            let found = match (read.take(), &order_id) {
                (Some(found), _) => found,
                (None, Some(order)) => ports.returns().order_with_returns(order).await?,
                (None, None) => None,
            };
            let (stored, returns) = found.ok_or_else(|| ReturnFlowError::NotFound(id.clone()))?;
            let mut ret = returns.iter().find(|r| &r.id == id).cloned().ok_or_else(|| ReturnFlowError::NotFound(id.clone()))?;
            (actor.authorize)(&ret)?;
            order_id = Some(ret.order_id.clone());
            // Whatever the order still owes (the replacement's hold) is applied first.
            let stored = settle(ports, stored).await?;
            let now = ports.now();
            let by = actor.by;
            let (owed, linked, coupon, store_credit) = match &step {
                Step::Receive { at, conditions } => {
                    if let Some(held_at) = ret.replacement.as_ref().map(|r| &r.location_id).filter(|held_at| *held_at != at) {
                        return Err(ReturnFlowError::HeldElsewhere { held_at: held_at.clone() });
                    }
                    known_location(ports, at).await?;
                    ret.receive(at.clone(), conditions, by, now)?;
                    let linked = linked_order(&ret, &stored.order, by, now);
                    (owed_at_receipt(&ret), linked, ret.goodwill.as_ref().and_then(|g| g.coupon()), None)
                }
                Step::Reject { reason } => {
                    ret.reject(reason.clone(), by, now)?;
                    (replacement_holds(&ret, true), None, None, None)
                }
                Step::Cancel => {
                    ret.cancel(by, now)?;
                    (replacement_holds(&ret, true), None, None, None)
                }
                Step::Refund(method) => {
                    ret.refunded(method.clone(), &stored.order, &returns, by, now)?;
                    let credit = ret.payout().map(|p| p.store_credit.clone()).filter(|credit| !credit.amount.is_zero());
                    (Vec::new(), None, None, credit)
                }
            };
            let writes = Writes { owed, linked, coupon, store_credit };
            if write_step(ports, stored, &ret, writes, claim, 200).await? {
                return Ok(ret);
            }
        }
        Err(ReturnFlowError::Changed)
    })
    .await
}

/// What a step writes with the return: the effects it owes, the linked replacement
/// order, the goodwill coupon and any store credit.
struct Writes {
    owed: Vec<Effect>,
    linked: Option<Order>,
    coupon: Option<Coupon>,
    store_credit: Option<Money>,
}

/// Writes `ret` and what the step writes with it against the order's revision as read
/// (`stored`), answering with the claim's `status` on a replay, then settles what it
/// owes (best effort: what cannot be applied now is settled later). False when the
/// order was written since: the step reads again.
async fn write_step<P: Ports>(ports: &P, stored: StoredOrder, ret: &Return, writes: Writes, claim: &ClaimKey, status: u16) -> Result<bool, ReturnFlowError> {
    let linked_owed = writes.linked.as_ref().map(owed_at_placement).unwrap_or_default();
    let write = ReturnWrite {
        ret,
        order_revision: &stored.revision,
        owed: &writes.owed,
        linked: writes.linked.as_ref().map(|o| (o, linked_owed.as_slice())),
        coupon: writes.coupon,
        store_credit: writes.store_credit,
        claim,
        status,
    };
    match ports.returns().write(write).await {
        Ok(written) => {
            settle_written(ports, stored, written).await;
            Ok(true)
        }
        Err(PortError::Refused(ReturnWriteRefused::Changed)) => Ok(false),
        Err(PortError::Unavailable(u)) => Err(u.into()),
    }
}

/// Runs `work` under the Idempotency-Key `claim`, on the order `of` names as read with
/// the claim: a finished earlier call's answer is replayed; a refusal lets go of the key
/// so a corrected retry may run.
async fn claimed<P: Ports>(
    ports: &P,
    claim: &ClaimKey,
    of: ReadOf<'_>,
    work: impl AsyncFnOnce(Option<(StoredOrder, Vec<Return>)>) -> Result<Return, ReturnFlowError>,
) -> Result<Answered, ReturnFlowError> {
    let first = match ports.returns().claim_and_read(claim, of).await {
        Ok((ReturnClaim::Owned, first)) => first,
        Ok((ReturnClaim::Replay(ret), _)) => return Ok(Answered::Replayed(*ret)),
        Err(PortError::Refused(refused)) => return Err(ReturnFlowError::Claim(refused)),
        Err(PortError::Unavailable(u)) => return Err(u.into()),
    };
    match work(first).await {
        Ok(ret) => Ok(Answered::New(ret)),
        Err(error) => {
            if error.is_refusal() {
                ports.orders().abandon(claim).await?;
            }
            Err(error)
        }
    }
}

/// Settles what a written step owes, without reading it again: the return's order's
/// effects (what it owed when read, then what the step added) and the linked order's.
/// Best effort: the sweeper finishes what cannot be applied now.
async fn settle_written<P: Ports>(ports: &P, read: StoredOrder, written: ReturnWritten) {
    let mut owed = read.owed;
    owed.extend(written.owed);
    if !owed.is_empty() {
        let _ = settle(ports, StoredOrder { order: read.order, revision: written.order_revision, owed }).await;
    }
    if let Some(linked) = written.linked {
        let _ = settle(ports, linked).await;
    }
}

async fn known_location<P: Ports>(ports: &P, id: &LocationId) -> Result<(), ReturnFlowError> {
    match ports.orders().locations().await?.iter().any(|l| &l.id == id) {
        true => Ok(()),
        false => Err(ReturnFlowError::LocationNotFound(id.clone())),
    }
}

/// Holds the replacement units where they will be handed over until `until`, every SKU
/// or none; when one is short there, answers the nearest locations that have it.
async fn set_aside<P: Ports>(ports: &P, replacement: &Replacement, until: DateTime<Utc>) -> Result<(), ReturnFlowError> {
    let hold = direct_hold_ref(&replacement.order_id);
    let order = order_ref(&replacement.order_id);
    let at = &replacement.location_id;
    let held = join_all(replacement.lines.iter().map(|l| {
        let allocations = [Allocation { location_id: at.clone(), quantity: l.quantity }];
        let (hold, order) = (&hold, &order);
        async move { ports.stock().hold_for_order(&l.sku, order, hold, &allocations, until).await }
    }))
    .await;
    let Some((line, failure)) = replacement.lines.iter().zip(held).find_map(|(l, r)| r.err().map(|e| (l, e))) else { return Ok(()) };
    join_all(replacement.lines.iter().map(|l| ports.stock().release(&l.sku, &hold))).await;
    match failure {
        PortError::Refused(StockError::Shortage { .. }) => {
            let locations = ports.orders().locations().await?;
            let levels = ports.stock().levels_for(&line.sku, &hold).await?;
            let nearest = nearest_with(&locations, at, levels.iter().map(|l| (&l.location_id, l.available)), line.quantity.get());
            Err(ReturnFlowError::ReplacementUnavailable { sku: line.sku.clone(), location_id: at.clone(), nearest })
        }
        PortError::Refused(other) => Err(ReturnFlowError::Unavailable(Unavailable(format!("holding {}: {other}", line.sku)))),
        PortError::Unavailable(u) => Err(u.into()),
    }
}

/// The locations (other than `from`) with at least `wanted` available, nearest to `from` first.
fn nearest_with<'a>(locations: &[Location], from: &LocationId, available: impl Iterator<Item = (&'a LocationId, u32)>, wanted: u32) -> Vec<NearbyStock> {
    let origin = locations.iter().find(|l| &l.id == from).map(Location::position);
    let mut nearest: Vec<NearbyStock> = available
        .filter(|(id, units)| *id != from && *units >= wanted)
        .filter_map(|(id, units)| {
            let location = locations.iter().find(|l| &l.id == id)?;
            let distance_km = origin.map_or(0.0, |o| round_km(o.distance_km(&location.position())));
            Some(NearbyStock { location_id: id.clone(), name: location.name.clone(), distance_km, available: units })
        })
        .collect();
    nearest.sort_by(|a, b| a.distance_km.total_cmp(&b.distance_km));
    nearest.truncate(5);
    nearest
}
