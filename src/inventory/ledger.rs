//! The stock ledger of one SKU across every location: what is on hand, what carts
//! hold, what placed orders have committed. One ledger is owned by one single writer
//! (the SKU's Durable Object), so every check-and-change here is serial: the rules
//! below are the whole story of why nothing is ever oversold.
//!
//! Per location: `on_hand` units are sellable and not yet promised to an order;
//! `held` of them sit in carts for a while; `available = on_hand - held`.
//! Placing an order moves units from `on_hand` to `committed`; handing them over
//! removes them from `committed`; cancelling puts them back on hand. What became of
//! each order's units is its `Commitment` (one row per order), so every command on an
//! order is idempotent: committing, handing over or restocking an order twice changes
//! nothing the second time.
//!
//! The ledger runs over indexed rows (`rows::LedgerRows`): totals per location are kept
//! up to date with every change, and each command touches only the rows it needs, so
//! no command costs more as live holds pile up. Lapsed holds stop counting at once and
//! are deleted in bounded batches (`expire`), by the object's alarm and before changes.

use crate::shared::ids::LocationId;
use crate::shared::quantity::{Delta, PositiveQuantity, Quantity, MAX_UNITS};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use crate::inventory::rows::LedgerRows;
use crate::inventory::scarcity::ScarceHolds;
use std::collections::BTreeMap;

#[cfg(test)]
mod model;

/// Counts of one SKU at one location, kept up to date with every change: `held` adds
/// up the holds at the location, lapsed ones too until they are expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Level {
    pub on_hand: u32,
    pub committed: u32,
    pub held: u32,
}

/// Who a hold is for: a cart or an order being placed (opaque to the ledger).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HoldRef(pub String);

/// Units set aside at one location until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub reference: HoldRef,
    pub location_id: LocationId,
    pub quantity: PositiveQuantity,
    pub placed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A change of the sellable count, as an ERP, warehouse or POS reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "quantity", rename_all = "snake_case")]
pub enum StockChange {
    /// An absolute count (a recount): holds above it are released, newest first.
    Set(Quantity),
    /// A relative change: may never take `on_hand` below what is held.
    Delta(Delta),
}

/// What the view of one location shows a caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationLevel {
    pub location_id: LocationId,
    pub on_hand: u32,
    pub held: u32,
    pub available: u32,
    pub committed: u32,
}

/// Units asked for at one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub location_id: LocationId,
    pub quantity: PositiveQuantity,
}

/// One location that could not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Short {
    pub location_id: LocationId,
    pub requested: u32,
    pub available: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum StockError {
    #[error("the change would leave {on_hand_after} on hand at {location_id} while {held} are held in carts")]
    BelowHeld { location_id: LocationId, held: u32, on_hand_after: i64 },
    #[error("the change would leave {on_hand_after} on hand at {location_id}, above the limit of {max}")]
    AboveLimit { location_id: LocationId, on_hand_after: i64, max: u32 },
    #[error("not enough stock")]
    Shortage { short: Vec<Short> },
    #[error("nothing is committed to order {order:?}")]
    NotCommitted { order: OrderRef },
    #[error("the units of order {order:?} were handed over; they cannot go back on hand")]
    HandedOver { order: OrderRef },
}

/// The outcome of an adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjusted {
    pub on_hand_before: u32,
    pub on_hand_after: u32,
    pub released_holds: Vec<HoldRef>,
}

/// What became of the units one order took of this SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Commitment {
    /// Moved from on hand to committed, waiting for hand-over or cancellation.
    Committed { allocations: Vec<Allocation> },
    /// Left their locations with the shopper or the carrier.
    HandedOver { allocations: Vec<Allocation> },
    /// Back on hand after the order was cancelled.
    Restocked { allocations: Vec<Allocation> },
    /// The order was cancelled before anything was committed: a late commit takes nothing.
    Void,
    /// Units of a return line back on hand where the return was received (the
    /// reference is the return line's, `Return::receipt_ref`).
    Returned { allocations: Vec<Allocation> },
    /// The commit found the units gone (the order's hold had lapsed). Final: every later
    /// commit of the order gives the same answer, so two settlers never decide apart.
    Refused { short: Vec<Short> },
}

impl Commitment {
    /// The answer to a commit that leaves the order's units in this state.
    pub fn answer(&self) -> Result<(), StockError> {
        match self {
            Commitment::Refused { short } => Err(StockError::Shortage { short: short.clone() }),
            _ => Ok(()),
        }
    }
}

/// The placed order a commitment belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderRef(pub String);


/// Units available at a location in a view (none where the SKU has no count).
fn available_in(view: &[LocationLevel], at: &LocationId) -> u32 {
    view.iter().find(|l| &l.location_id == at).map_or(0, |l| l.available)
}

/// What a ledger command answers: refused by the rules, or failed in storage (`E`).
pub type Outcome<T, E> = Result<Result<T, StockError>, E>;

/// Lapsed holds one command or alarm deletes at most.
pub const EXPIRY_BATCH: usize = 500;

/// How many holds a recount below what is held reads at a time to release.
const RELEASE_PAGE: usize = 500;

/// The stock ledger of one SKU over its rows.
pub struct StockLedger<R> {
    rows: R,
    /// A time by which every lapsed hold is known deleted (an `expire` found fewer than
    /// its limit), so that a view then needs no query for lapsed units.
    expired_through: Option<DateTime<Utc>>,
}

impl<R: Default> Default for StockLedger<R> {
    fn default() -> Self {
        StockLedger { rows: R::default(), expired_through: None }
    }
}

impl<R: LedgerRows> StockLedger<R> {
    pub fn new(rows: R) -> Self {
        StockLedger { rows, expired_through: None }
    }

    /// The ledger over rows whose keeper knows that no hold lapses before `no_lapse_before`
    /// (the earliest expiry it read, or earlier): until then, it queries for no lapsed holds.
    pub fn with_no_lapse_before(rows: R, no_lapse_before: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        StockLedger { rows, expired_through: (now < no_lapse_before).then_some(now) }
    }

    pub fn rows(&self) -> &R {
        &self.rows
    }

    pub fn into_rows(self) -> R {
        self.rows
    }

    /// Deletes up to `limit` lapsed holds; answers how many.
    pub fn expire(&mut self, now: DateTime<Utc>, limit: usize) -> Result<usize, R::Error> {
        if self.expired_through.is_some_and(|through| through >= now) {
            return Ok(0);
        }
        let lapsed = self.rows.lapsed(now, limit)?;
        for hold in &lapsed {
            self.delete_hold(hold)?;
        }
        if lapsed.len() < limit {
            self.expired_through = Some(now);
        }
        Ok(lapsed.len())
    }

    /// When the next hold lapses (or lapsed and is still to be deleted), for the alarm.
    pub fn next_expiry(&self) -> Result<Option<DateTime<Utc>>, R::Error> {
        self.rows.next_expiry()
    }

    fn level(&self, at: &LocationId) -> Result<Level, R::Error> {
        Ok(self.rows.level(at)?.unwrap_or_default())
    }

    /// Units that can be sold now at a location.
    pub fn available_at(&self, at: &LocationId, now: DateTime<Utc>) -> Result<u32, R::Error> {
        Ok(available_in(&self.view(now)?, at))
    }

    /// Every location that ever had a count of this SKU, with what is held and available:
    /// the kept totals less the holds that lapsed and are not yet deleted.
    pub fn view(&self, now: DateTime<Utc>) -> Result<Vec<LocationLevel>, R::Error> {
        let expired = self.expired_through.is_some_and(|through| through >= now);
        let lapsed: BTreeMap<LocationId, u32> = if expired { BTreeMap::new() } else { self.rows.lapsed_units(now)?.into_iter().collect() };
        Ok(self
            .rows
            .levels()?
            .into_iter()
            .map(|(at, level)| {
                let held = level.held.saturating_sub(lapsed.get(&at).copied().unwrap_or(0));
                LocationLevel { location_id: at, on_hand: level.on_hand, held, available: level.on_hand.saturating_sub(held), committed: level.committed }
            })
            .collect())
    }

    /// Every location's counts as `reference` sees them: what it holds itself counts as
    /// available to it (a basket being ordered may use its own holds).
    pub fn view_for(&self, reference: &HoldRef, now: DateTime<Utc>) -> Result<Vec<LocationLevel>, R::Error> {
        self.seen_by(&self.rows.holds_of(reference)?, now)
    }

    /// Every location's counts as the holder of `own` (its holds, as stored) sees them.
    fn seen_by(&self, own: &[Hold], now: DateTime<Utc>) -> Result<Vec<LocationLevel>, R::Error> {
        let own: Vec<&Hold> = own.iter().filter(|h| h.expires_at > now).collect();
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

    /// Units `reference` holds at each location right now.
    pub fn holds_of(&self, reference: &HoldRef, now: DateTime<Utc>) -> Result<Vec<Allocation>, R::Error> {
        Ok(self
            .rows
            .holds_of(reference)?
            .into_iter()
            .filter(|h| h.expires_at > now)
            .map(|h| Allocation { location_id: h.location_id, quantity: h.quantity })
            .collect())
    }

    /// Applies a count or a correction from a stock system.
    pub fn adjust(&mut self, at: &LocationId, change: StockChange, now: DateTime<Utc>) -> Outcome<Adjusted, R::Error> {
        self.expire(now, EXPIRY_BATCH)?;
        let mut level = self.level(at)?;
        let before = level.on_hand;
        let mut held = self.view(now)?.into_iter().find(|l| &l.location_id == at).map_or(0, |l| l.held);
        let after = match change {
            StockChange::Set(q) => q.get() as i64,
            StockChange::Delta(d) => before as i64 + d.get() as i64,
        };
        if after > MAX_UNITS as i64 {
            return Ok(Err(StockError::AboveLimit { location_id: at.clone(), on_hand_after: after, max: MAX_UNITS }));
        }
        let mut released_holds = Vec::new();
        match change {
            StockChange::Delta(_) if after < held as i64 => {
                return Ok(Err(StockError::BelowHeld { location_id: at.clone(), held, on_hand_after: after }));
            }
            StockChange::Delta(_) => {}
            // After a recount below what carts hold, the newest holds there give way, read
            // a page at a time; the location's held count changes once, by what was freed.
            StockChange::Set(_) => {
                let mut freed = 0;
                'release: while held as i64 > after {
                    let newest = self.rows.newest_live_holds_at(at, now, RELEASE_PAGE)?;
                    let last_page = newest.len() < RELEASE_PAGE;
                    for hold in newest {
                        if held as i64 <= after {
                            break 'release;
                        }
                        self.rows.delete_hold(&hold.reference, at)?;
                        held -= hold.quantity.get();
                        freed += hold.quantity.get();
                        released_holds.push(hold.reference);
                    }
                    if last_page {
                        break;
                    }
                }
                level.held = level.held.saturating_sub(freed);
            }
        }
        level.on_hand = after as u32;
        self.rows.put_level(at, level)?;
        Ok(Ok(Adjusted { on_hand_before: before, on_hand_after: after as u32, released_holds }))
    }

    /// Where `requested` (per location) is short for the holder of `own` (its holds count).
    fn shortages(&self, own: &[Hold], wanted: &BTreeMap<&LocationId, u32>, now: DateTime<Utc>) -> Result<Vec<Short>, R::Error> {
        let seen = self.seen_by(own, now)?;
        Ok(wanted
            .iter()
            .filter_map(|(&at, &requested)| {
                let available = available_in(&seen, at);
                (requested > available).then(|| Short { location_id: at.clone(), requested, available })
            })
            .collect())
    }

    /// Sets aside units for `reference`, replacing whatever it held before. All or nothing:
    /// if any location is short, nothing changes and every short location is named.
    pub fn hold(&mut self, reference: &HoldRef, allocations: &[Allocation], now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Outcome<(), R::Error> {
        self.expire(now, EXPIRY_BATCH)?;
        let mut wanted: BTreeMap<&LocationId, u32> = BTreeMap::new();
        for a in allocations {
            *wanted.entry(&a.location_id).or_default() += a.quantity.get();
        }
        let own = self.rows.holds_of(reference)?;
        let short = self.shortages(&own, &wanted, now)?;
        if !short.is_empty() {
            return Ok(Err(StockError::Shortage { short }));
        }
        self.replace_holds(reference, own, wanted, now, expires_at)?;
        Ok(Ok(()))
    }

    /// What `reference` holds (`old`, as read) becomes `wanted` (units per location),
    /// until `expires_at`; the caller has checked that the units are available to it.
    fn replace_holds<'a>(
        &mut self,
        reference: &HoldRef,
        old: Vec<Hold>,
        wanted: impl IntoIterator<Item = (&'a LocationId, u32)>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), R::Error> {
        // Each location's count changes once, by the difference (a re-hold where the
        // reference held before reads and writes its level once, not twice).
        let mut held: BTreeMap<LocationId, i64> = BTreeMap::new();
        for old in old {
            self.rows.delete_hold(&old.reference, &old.location_id)?;
            *held.entry(old.location_id).or_default() -= i64::from(old.quantity.get());
        }
        for (at, requested) in wanted {
            let Ok(quantity) = PositiveQuantity::new(requested as i64) else { continue };
            self.note_inserted(expires_at);
            self.rows.insert_hold(&Hold { reference: reference.clone(), location_id: at.clone(), quantity, placed_at: now, expires_at })?;
            *held.entry(at.clone()).or_default() += i64::from(quantity.get());
        }
        for (at, change) in held.into_iter().filter(|(_, change)| *change != 0) {
            let mut level = self.level(&at)?;
            level.held = u32::try_from((i64::from(level.held) + change).max(0)).unwrap_or(u32::MAX);
            self.rows.put_level(&at, level)?;
        }
        Ok(())
    }

    /// Holds as `hold` does, for the units of `order`, unless the order's units are settled
    /// already (committed, handed over, voided, ...): a late call then holds nothing, so a
    /// hold kept for a return's replacement cannot outlive its hand-over or cancellation.
    pub fn hold_for_order(&mut self, order: &OrderRef, reference: &HoldRef, allocations: &[Allocation], now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Outcome<(), R::Error> {
        if self.rows.commitment(order)?.is_some() {
            return Ok(Ok(()));
        }
        self.hold(reference, allocations, now, expires_at)
    }

    /// Lets go of whatever `reference` holds; answers the units released.
    pub fn release(&mut self, reference: &HoldRef) -> Result<u32, R::Error> {
        let holds = self.rows.holds_of(reference)?;
        self.let_go(holds)
    }

    /// Deletes these holds (as read); answers their units.
    fn let_go(&mut self, holds: Vec<Hold>) -> Result<u32, R::Error> {
        let mut released = 0;
        for hold in holds {
            self.delete_hold(&hold)?;
            released += hold.quantity.get();
        }
        Ok(released)
    }

    /// Holds `quantity` for `reference` at the eligible location with the most available
    /// (what the reference already holds there counts as available), ties to the first listed.
    pub fn hold_anywhere(
        &mut self,
        reference: &HoldRef,
        quantity: PositiveQuantity,
        eligible: &[LocationId],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Outcome<LocationId, R::Error> {
        Ok(self.hold_anywhere_until(reference, quantity, eligible, now, |_| expires_at)?.map(|(at, _)| at))
    }

    /// A cart line's hold: as `hold_anywhere`, lasting until `asked` or, while the SKU is
    /// scarce at the eligible locations (`scarce`), less. Answers where and until when.
    pub fn hold_for_cart(
        &mut self,
        reference: &HoldRef,
        quantity: PositiveQuantity,
        eligible: &[LocationId],
        now: DateTime<Utc>,
        asked: DateTime<Utc>,
        scarce: Option<&ScarceHolds>,
    ) -> Outcome<(LocationId, DateTime<Utc>), R::Error> {
        self.hold_anywhere_until(reference, quantity, eligible, now, |seen| match scarce {
            Some(rule) => rule.hold_until(seen, eligible, now, asked),
            None => asked,
        })
    }

    /// `hold_anywhere`, the hold lasting until what `until` makes of the levels as the
    /// reference sees them (read once).
    fn hold_anywhere_until(
        &mut self,
        reference: &HoldRef,
        quantity: PositiveQuantity,
        eligible: &[LocationId],
        now: DateTime<Utc>,
        until: impl FnOnce(&[LocationLevel]) -> DateTime<Utc>,
    ) -> Outcome<(LocationId, DateTime<Utc>), R::Error> {
        self.expire(now, EXPIRY_BATCH)?;
        let own = self.rows.holds_of(reference)?;
        let seen = self.seen_by(&own, now)?;
        let offers: Vec<(LocationId, u32)> = eligible.iter().map(|at| (at.clone(), available_in(&seen, at))).collect();
        let best = offers.iter().fold(None, |best: Option<&(LocationId, u32)>, offer| match best {
            Some((_, b)) if *b >= offer.1 => best,
            _ => Some(offer),
        });
        let at = match best {
            Some((at, available)) if *available >= quantity.get() => at.clone(),
            _ => {
                let short = offers.into_iter().map(|(location_id, available)| Short { location_id, requested: quantity.get(), available }).collect();
                return Ok(Err(StockError::Shortage { short }));
            }
        };
        let expires_at = until(&seen);
        // `seen` already shows the units available at `at`: hold them without reading again.
        self.replace_holds(reference, own, [(&at, quantity.get())], now, expires_at)?;
        Ok(Ok((at, expires_at)))
    }

    /// Commits `allocations` to a placed order: units move from on hand to committed.
    /// What `hold` holds is let go first, so its units count; a lapsed hold is
    /// re-acquired when the stock is still there; when it is not, the commit is refused
    /// for good (`Commitment::Refused`). An order that already has a commitment (in any
    /// state) is never committed again. Answers what became of the order's units.
    pub fn commit(&mut self, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation], now: DateTime<Utc>) -> Result<Commitment, R::Error> {
        match self.take(order, hold, allocations, now)? {
            Ok(commitment) => Ok(commitment),
            Err(short) => {
                let refused = Commitment::Refused { short };
                self.rows.put_commitment(order, &refused)?;
                Ok(refused)
            }
        }
    }

    /// Holds and commits in one step, for an order being placed: as `commit`, except that
    /// when units are short nothing is recorded (the placement may allocate again under
    /// the same order) and the short locations are the answer. An order that already has
    /// a commitment gets it back unchanged (a `Void` or `Restocked` one means the
    /// placement was given up for dead meanwhile: it must not write its order).
    pub fn take(&mut self, order: &OrderRef, hold: &HoldRef, allocations: &[Allocation], now: DateTime<Utc>) -> Result<Result<Commitment, Vec<Short>>, R::Error> {
        if let Some(prior) = self.rows.commitment(order)? {
            return Ok(Ok(prior));
        }
        self.expire(now, EXPIRY_BATCH)?;
        let mut wanted: BTreeMap<&LocationId, u32> = BTreeMap::new();
        for a in allocations {
            *wanted.entry(&a.location_id).or_default() += a.quantity.get();
        }
        let own = self.rows.holds_of(hold)?;
        let short = self.shortages(&own, &wanted, now)?;
        if !short.is_empty() {
            return Ok(Err(short));
        }
        self.let_go(own)?;
        for a in allocations {
            let mut level = self.level(&a.location_id)?;
            level.on_hand -= a.quantity.get();
            level.committed += a.quantity.get();
            self.rows.put_level(&a.location_id, level)?;
        }
        let commitment = Commitment::Committed { allocations: allocations.to_vec() };
        self.rows.put_commitment(order, &commitment)?;
        Ok(Ok(commitment))
    }

    /// Undoes what `take` committed to an order whose placement gave up before writing
    /// it: the units go back on hand, held again for `keep` until its time when given (a
    /// cart keeps its units), and the order has no commitment, as if never taken. A
    /// commitment settled otherwise (voided, restocked) stays as it is.
    pub fn withdraw(&mut self, order: &OrderRef, keep: Option<(&HoldRef, DateTime<Utc>)>, now: DateTime<Utc>) -> Result<(), R::Error> {
        let Some(Commitment::Committed { allocations }) = self.rows.commitment(order)? else { return Ok(()) };
        self.uncommit(&allocations)?;
        let mut units: BTreeMap<&LocationId, u32> = BTreeMap::new();
        for a in &allocations {
            *units.entry(&a.location_id).or_default() += a.quantity.get();
        }
        self.rows.delete_commitment(order)?;
        match keep {
            Some((hold, until)) if until > now => {
                let old = self.rows.holds_of(hold)?;
                self.replace_holds(hold, old, units, now, until)
            }
            _ => Ok(()),
        }
    }

    /// An order's committed units leave their locations (collected or shipped). Once
    /// settled otherwise (handed over, restocked, void) nothing changes.
    pub fn hand_over(&mut self, order: &OrderRef) -> Outcome<(), R::Error> {
        match self.rows.commitment(order)? {
            Some(Commitment::Committed { allocations }) => {
                for a in &allocations {
                    let mut level = self.level(&a.location_id)?;
                    level.committed -= a.quantity.get();
                    self.rows.put_level(&a.location_id, level)?;
                }
                self.rows.put_commitment(order, &Commitment::HandedOver { allocations })?;
                Ok(Ok(()))
            }
            Some(Commitment::HandedOver { .. } | Commitment::Restocked { .. } | Commitment::Void) => Ok(Ok(())),
            None | Some(Commitment::Refused { .. } | Commitment::Returned { .. }) => Ok(Err(StockError::NotCommitted { order: order.clone() })),
        }
    }

    /// A received return line's resellable units go on hand at `at` (a location that
    /// never had the SKU gets a count); once per `receipt`: receiving again changes nothing.
    pub fn receive_return(&mut self, receipt: &OrderRef, at: &LocationId, quantity: PositiveQuantity) -> Result<(), R::Error> {
        if self.rows.commitment(receipt)?.is_some() {
            return Ok(());
        }
        let mut level = self.level(at)?;
        level.on_hand += quantity.get();
        self.rows.put_level(at, level)?;
        self.rows.put_commitment(receipt, &Commitment::Returned { allocations: vec![Allocation { location_id: at.clone(), quantity }] })
    }

    /// A cancelled order's committed units go back on hand where they came from; an
    /// order never committed is voided, so that a late commit takes nothing.
    pub fn restock(&mut self, order: &OrderRef) -> Outcome<(), R::Error> {
        match self.rows.commitment(order)? {
            Some(Commitment::Committed { allocations }) => {
                self.uncommit(&allocations)?;
                self.rows.put_commitment(order, &Commitment::Restocked { allocations })?;
                Ok(Ok(()))
            }
            None => {
                self.rows.put_commitment(order, &Commitment::Void)?;
                Ok(Ok(()))
            }
            Some(Commitment::Restocked { .. } | Commitment::Void | Commitment::Refused { .. }) => Ok(Ok(())),
            Some(Commitment::HandedOver { .. } | Commitment::Returned { .. }) => Ok(Err(StockError::HandedOver { order: order.clone() })),
        }
    }

    /// Committed units go back on hand where they were committed.
    fn uncommit(&mut self, allocations: &[Allocation]) -> Result<(), R::Error> {
        for a in allocations {
            let mut level = self.level(&a.location_id)?;
            level.committed -= a.quantity.get();
            level.on_hand += a.quantity.get();
            self.rows.put_level(&a.location_id, level)?;
        }
        Ok(())
    }

    /// A hold lapsed already when inserted is not known expired.
    fn note_inserted(&mut self, expires_at: DateTime<Utc>) {
        if self.expired_through.is_some_and(|through| expires_at <= through) {
            self.expired_through = None;
        }
    }

    fn delete_hold(&mut self, hold: &Hold) -> Result<(), R::Error> {
        let mut level = self.level(&hold.location_id)?;
        level.held = level.held.saturating_sub(hold.quantity.get());
        self.rows.put_level(&hold.location_id, level)?;
        self.rows.delete_hold(&hold.reference, &hold.location_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::rows::{in_memory, MemoryRows};
    use crate::shared::quantity::{Delta, Quantity};
    use chrono::Duration;

    /// The ledger over rows in memory, its storage's (impossible) errors unwrapped.
    #[derive(Default)]
    struct L(StockLedger<MemoryRows>);

    impl L {
        fn adjust(&mut self, at: &LocationId, change: StockChange, now: DateTime<Utc>) -> Result<Adjusted, StockError> {
            in_memory(self.0.adjust(at, change, now))
        }
        fn hold(&mut self, r: &HoldRef, a: &[Allocation], now: DateTime<Utc>, until: DateTime<Utc>) -> Result<(), StockError> {
            in_memory(self.0.hold(r, a, now, until))
        }
        fn hold_anywhere(&mut self, r: &HoldRef, q: PositiveQuantity, eligible: &[LocationId], now: DateTime<Utc>, until: DateTime<Utc>) -> Result<LocationId, StockError> {
            in_memory(self.0.hold_anywhere(r, q, eligible, now, until))
        }
        fn hold_for_cart(
            &mut self,
            r: &HoldRef,
            q: PositiveQuantity,
            eligible: &[LocationId],
            now: DateTime<Utc>,
            asked: DateTime<Utc>,
            scarce: Option<&ScarceHolds>,
        ) -> Result<(LocationId, DateTime<Utc>), StockError> {
            in_memory(self.0.hold_for_cart(r, q, eligible, now, asked, scarce))
        }
        fn release(&mut self, r: &HoldRef) -> u32 {
            in_memory(self.0.release(r))
        }
        fn available_at(&self, at: &LocationId, now: DateTime<Utc>) -> u32 {
            in_memory(self.0.available_at(at, now))
        }
        fn view(&self, now: DateTime<Utc>) -> Vec<LocationLevel> {
            in_memory(self.0.view(now))
        }
        fn holds_of(&self, r: &HoldRef, now: DateTime<Utc>) -> Vec<Allocation> {
            in_memory(self.0.holds_of(r, now))
        }
        fn next_expiry(&self) -> Option<DateTime<Utc>> {
            in_memory(self.0.next_expiry())
        }
        fn expire(&mut self, now: DateTime<Utc>) -> usize {
            in_memory(self.0.expire(now, EXPIRY_BATCH))
        }
        fn commit(&mut self, o: &OrderRef, r: &HoldRef, a: &[Allocation], now: DateTime<Utc>) -> Commitment {
            in_memory(self.0.commit(o, r, a, now))
        }
        fn hand_over(&mut self, o: &OrderRef) -> Result<(), StockError> {
            in_memory(self.0.hand_over(o))
        }
        fn restock(&mut self, o: &OrderRef) -> Result<(), StockError> {
            in_memory(self.0.restock(o))
        }
        fn receive_return(&mut self, r: &OrderRef, at: &LocationId, q: PositiveQuantity) {
            in_memory(self.0.receive_return(r, at, q))
        }
    }

    fn loc(s: &str) -> LocationId {
        LocationId::parse(s).unwrap()
    }
    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }
    fn set(n: i64) -> StockChange {
        StockChange::Set(Quantity::new(n).unwrap())
    }
    fn delta(n: i64) -> StockChange {
        StockChange::Delta(Delta::new(n).unwrap())
    }
    fn alloc(l: &str, q: i64) -> Allocation {
        Allocation { location_id: loc(l), quantity: PositiveQuantity::new(q).unwrap() }
    }
    fn cart(s: &str) -> HoldRef {
        HoldRef(s.into())
    }

    #[test]
    fn a_late_hold_for_a_settled_order_holds_nothing() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        let (order, hold) = (OrderRef("order:x".into()), HoldRef("order:x".into()));
        in_memory(l.0.hold_for_order(&order, &hold, &[alloc("s1", 1)], at(0), at(60))).unwrap();
        assert_eq!(l.holds_of(&hold, at(1)), vec![alloc("s1", 1)]);
        assert!(matches!(l.commit(&order, &hold, &[alloc("s1", 1)], at(1)), Commitment::Committed { .. }));
        in_memory(l.0.hold_for_order(&order, &hold, &[alloc("s1", 1)], at(2), at(60))).unwrap();
        assert_eq!(l.holds_of(&hold, at(2)), vec![], "committed: a late hold holds nothing");
        let (voided, void_hold) = (OrderRef("order:y".into()), HoldRef("order:y".into()));
        l.restock(&voided).unwrap();
        in_memory(l.0.hold_for_order(&voided, &void_hold, &[alloc("s1", 1)], at(2), at(60))).unwrap();
        assert_eq!(l.holds_of(&void_hold, at(2)), vec![], "voided: nothing held");
    }

    #[test]
    fn counts_and_deltas() {
        let mut l = L::default();
        let a = l.adjust(&loc("s1"), set(5), at(0)).unwrap();
        assert_eq!((a.on_hand_before, a.on_hand_after), (0, 5));
        l.adjust(&loc("s1"), delta(-2), at(0)).unwrap();
        assert_eq!(l.available_at(&loc("s1"), at(0)), 3);
        assert!(matches!(l.adjust(&loc("s1"), delta(-4), at(0)), Err(StockError::BelowHeld { held: 0, .. })));
        assert!(matches!(l.adjust(&loc("s1"), set(1_000_000), at(0)).and_then(|_| l.adjust(&loc("s1"), delta(1), at(0))), Err(StockError::AboveLimit { .. })));
    }

    #[test]
    fn a_delta_cannot_go_below_what_is_held() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(5), at(0)).unwrap();
        l.hold(&cart("c1"), &[alloc("s1", 3)], at(0), at(15)).unwrap();
        assert_eq!(l.view(at(1))[0], LocationLevel { location_id: loc("s1"), on_hand: 5, held: 3, available: 2, committed: 0 });
        assert!(matches!(l.adjust(&loc("s1"), delta(-3), at(1)), Err(StockError::BelowHeld { held: 3, on_hand_after: 2, .. })));
        l.adjust(&loc("s1"), delta(-2), at(1)).unwrap();
        // once the hold lapses the units are free again
        l.adjust(&loc("s1"), delta(-3), at(16)).unwrap();
    }

    #[test]
    fn a_recount_releases_the_newest_holds() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(4), at(0)).unwrap();
        l.hold(&cart("old"), &[alloc("s1", 2)], at(0), at(15)).unwrap();
        l.hold(&cart("new"), &[alloc("s1", 2)], at(1), at(15)).unwrap();
        let a = l.adjust(&loc("s1"), set(3), at(2)).unwrap();
        assert_eq!(a.released_holds, vec![cart("new")]);
        assert_eq!(l.view(at(2))[0].held, 2);
    }

    #[test]
    fn a_keepers_earliest_expiry_counts_holds_as_live_only_before_it() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(5), at(0)).unwrap();
        l.hold(&cart("c1"), &[alloc("s1", 2)], at(0), at(10)).unwrap();
        let mut before = StockLedger::with_no_lapse_before(l.0.into_rows(), at(10), at(9));
        assert_eq!(in_memory(before.expire(at(9), EXPIRY_BATCH)), 0);
        assert_eq!(in_memory(before.view(at(9)))[0].held, 2);
        let mut at_expiry = StockLedger::with_no_lapse_before(before.into_rows(), at(10), at(10));
        assert_eq!(in_memory(at_expiry.expire(at(10), EXPIRY_BATCH)), 1, "a hold lapses at its expiry");
        assert_eq!(in_memory(at_expiry.view(at(10)))[0].held, 0);
    }

    #[test]
    fn a_recount_releases_newest_first_across_pages_and_keeps_lapsed_ones_counted_once() {
        let mut l = L::default();
        let holds = 3 * RELEASE_PAGE as i64 + 7;
        l.adjust(&loc("s1"), set(holds + 10), at(0)).unwrap();
        for i in 0..holds {
            l.hold(&cart(&format!("c{i:05}")), &[alloc("s1", 1)], at(i), at(i + 10_000)).unwrap();
        }
        l.hold(&cart("lapses"), &[alloc("s1", 1)], at(0), at(1)).unwrap();
        let now = at(holds);
        let a = l.adjust(&loc("s1"), set(100), now).unwrap();
        let released = (holds - 100) as usize;
        assert_eq!(a.released_holds.len(), released);
        assert_eq!(a.released_holds[0], cart(&format!("c{:05}", holds - 1)), "the newest gives way first");
        assert_eq!(a.released_holds[released - 1], cart("c00100"));
        assert_eq!(l.view(now)[0], LocationLevel { location_id: loc("s1"), on_hand: 100, held: 100, available: 0, committed: 0 });
        assert_eq!(l.holds_of(&cart("c00099"), now), vec![alloc("s1", 1)], "the oldest keep their units");
    }

    #[test]
    fn holds_are_all_or_nothing_and_name_every_short_location() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(1), at(0)).unwrap();
        l.adjust(&loc("s2"), set(1), at(0)).unwrap();
        let err = l.hold(&cart("c"), &[alloc("s1", 1), alloc("s2", 2), alloc("s3", 1)], at(0), at(15)).unwrap_err();
        let StockError::Shortage { short } = err else { panic!() };
        assert_eq!(short.iter().map(|s| s.location_id.as_str()).collect::<Vec<_>>(), ["s2", "s3"]);
        assert_eq!(l.available_at(&loc("s1"), at(0)), 1, "nothing held after a refusal");
    }

    #[test]
    fn holding_again_replaces_the_previous_hold() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        l.hold(&cart("c"), &[alloc("s1", 2)], at(0), at(15)).unwrap();
        l.hold(&cart("c"), &[alloc("s1", 3)], at(1), at(16)).unwrap();
        assert_eq!(l.available_at(&loc("s1"), at(1)), 0);
        // a failed re-hold keeps the old one
        assert!(l.hold(&cart("c"), &[alloc("s1", 4)], at(2), at(17)).is_err());
        assert_eq!(l.available_at(&loc("s1"), at(2)), 0);
        assert_eq!(l.release(&cart("c")), 3);
        assert_eq!(l.available_at(&loc("s1"), at(2)), 3);
    }

    fn order(s: &str) -> OrderRef {
        OrderRef(s.into())
    }
    fn counts(l: &L, at: &str) -> (u32, u32) {
        l.view(at_start()).into_iter().find(|v| v.location_id == loc(at)).map_or((0, 0), |v| (v.on_hand, v.committed))
    }
    fn at_start() -> DateTime<Utc> {
        at(0)
    }

    #[test]
    fn commit_hand_over_and_cancel_conserve_units() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        l.hold(&cart("c1"), &[alloc("s1", 2)], at(0), at(15)).unwrap();
        assert_eq!(l.commit(&order("o1"), &cart("c1"), &[alloc("s1", 2)], at(1)), Commitment::Committed { allocations: vec![alloc("s1", 2)] });
        assert_eq!(counts(&l, "s1"), (1, 2));
        assert_eq!(l.view(at(1))[0].held, 0, "the cart's hold became the commitment");
        // a retried commit changes nothing
        l.commit(&order("o1"), &cart("c1"), &[alloc("s1", 2)], at(1));
        assert_eq!(counts(&l, "s1"), (1, 2));
        l.restock(&order("o1")).unwrap();
        assert_eq!(counts(&l, "s1"), (3, 0));
        // once settled, every later command on the order changes nothing
        l.restock(&order("o1")).unwrap();
        l.hand_over(&order("o1")).unwrap();
        assert_eq!(l.commit(&order("o1"), &cart("c1"), &[alloc("s1", 2)], at(2)), Commitment::Restocked { allocations: vec![alloc("s1", 2)] });
        assert_eq!(counts(&l, "s1"), (3, 0));
        assert!(matches!(l.hand_over(&order("o2")), Err(StockError::NotCommitted { .. })));
    }

    #[test]
    fn hand_over_removes_committed_units_once() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        l.commit(&order("o1"), &cart("o1"), &[alloc("s1", 3)], at(0));
        let refused = l.commit(&order("o2"), &cart("o2"), &[alloc("s1", 1)], at(0));
        assert_eq!(refused, Commitment::Refused { short: vec![Short { location_id: loc("s1"), requested: 1, available: 0 }] });
        assert!(refused.answer().is_err(), "a refused commit answers a shortage");
        l.adjust(&loc("s1"), set(5), at(0)).unwrap();
        assert_eq!(l.commit(&order("o2"), &cart("o2"), &[alloc("s1", 1)], at(0)), refused, "and stays refused");
        l.restock(&order("o2")).unwrap();
        l.hand_over(&order("o1")).unwrap();
        assert_eq!(counts(&l, "s1"), (5, 0));
        l.hand_over(&order("o1")).unwrap();
        assert_eq!(l.restock(&order("o1")), Err(StockError::HandedOver { order: order("o1") }));
        assert_eq!(counts(&l, "s1"), (5, 0));
    }

    #[test]
    fn a_return_line_is_received_once_even_where_the_sku_was_never_stocked() {
        let mut l = L::default();
        let receipt = OrderRef("return:r1:SHOE".into());
        let two = PositiveQuantity::new(2).unwrap();
        l.receive_return(&receipt, &loc("never"), two);
        l.receive_return(&receipt, &loc("never"), two);
        assert_eq!(counts(&l, "never"), (2, 0));
        assert_eq!(l.restock(&receipt), Err(StockError::HandedOver { order: receipt.clone() }), "not an order's units");
    }

    #[test]
    fn cancelling_before_the_commit_voids_it() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(2), at(0)).unwrap();
        l.restock(&order("o1")).unwrap();
        assert_eq!(l.commit(&order("o1"), &cart("o1"), &[alloc("s1", 2)], at(0)), Commitment::Void, "a late commit takes nothing");
        assert_eq!(counts(&l, "s1"), (2, 0));
    }

    #[test]
    fn a_placement_takes_in_one_step_and_may_withdraw_before_its_order_is_written() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        l.hold(&cart("c1"), &[alloc("s1", 2)], at(0), at(15)).unwrap();
        let take = |l: &mut L, o: &str, q: i64| in_memory(l.0.take(&order(o), &cart("c1"), &[alloc("s1", q)], at(1)));
        assert_eq!(take(&mut l, "o1", 4), Err(vec![Short { location_id: loc("s1"), requested: 4, available: 3 }]), "the cart's own units count");
        assert_eq!(l.0.rows().commitments().get(&order("o1")), None, "a short take records nothing");
        assert_eq!(take(&mut l, "o1", 3), Ok(Commitment::Committed { allocations: vec![alloc("s1", 3)] }));
        assert_eq!((counts(&l, "s1"), l.view(at(1))[0].held), ((0, 3), 0), "held and committed at once");
        in_memory(l.0.withdraw(&order("o1"), Some((&cart("c1"), at(15))), at(2)));
        assert_eq!(counts(&l, "s1"), (3, 0));
        assert_eq!(l.holds_of(&cart("c1"), at(2)), vec![alloc("s1", 3)], "the cart holds what was taken again");
        assert_eq!(l.0.rows().commitments().get(&order("o1")), None, "as if never taken");
        // Given up for dead (voided): a late take takes nothing and says so; a late withdraw changes nothing.
        l.restock(&order("o2")).unwrap();
        assert_eq!(take(&mut l, "o2", 1), Ok(Commitment::Void));
        in_memory(l.0.withdraw(&order("o2"), None, at(2)));
        assert_eq!((counts(&l, "s1"), l.0.rows().commitments().get(&order("o2"))), ((3, 0), Some(&Commitment::Void)));
    }

    #[test]
    fn a_cart_hold_is_shorter_while_the_sku_is_scarce() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(4), at(0)).unwrap();
        let rule = ScarceHolds::new(50, 120).unwrap();
        let (one, eligible) = (PositiveQuantity::ONE, [loc("s1")]);
        assert_eq!(l.hold_for_cart(&cart("a"), one, &eligible, at(0), at(15), Some(&rule)).unwrap(), (loc("s1"), at(15)));
        l.hold_for_cart(&cart("b"), one, &eligible, at(0), at(15), Some(&rule)).unwrap();
        let (_, until) = l.hold_for_cart(&cart("c"), one, &eligible, at(0), at(15), Some(&rule)).unwrap();
        assert_eq!(until, at(2), "2 of 4 held: the third hold lasts 2 minutes");
        assert_eq!(l.hold_for_cart(&cart("d"), one, &eligible, at(0), at(15), None).unwrap(), (loc("s1"), at(15)), "no rule, as asked");
    }

    #[test]
    fn hold_anywhere_picks_the_location_with_most_available() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(1), at(0)).unwrap();
        l.adjust(&loc("s2"), set(4), at(0)).unwrap();
        let q = PositiveQuantity::new(2).unwrap();
        let eligible = [loc("s1"), loc("s2")];
        assert_eq!(l.hold_anywhere(&cart("c"), q, &eligible, at(0), at(15)).unwrap(), loc("s2"));
        // growing the line re-holds: its own units count
        let q4 = PositiveQuantity::new(4).unwrap();
        assert_eq!(l.hold_anywhere(&cart("c"), q4, &eligible, at(0), at(15)).unwrap(), loc("s2"));
        let q5 = PositiveQuantity::new(5).unwrap();
        let Err(StockError::Shortage { short }) = l.hold_anywhere(&cart("c"), q5, &eligible, at(0), at(15)) else { panic!() };
        assert_eq!(short[1], Short { location_id: loc("s2"), requested: 5, available: 4 }, "its own hold counts as available to it");
        assert_eq!(l.holds_of(&cart("c"), at(0)), vec![alloc("s2", 4)], "a refused re-hold keeps the old one");
    }

    #[test]
    fn lapsed_holds_are_reacquired_at_commit_when_stock_is_there() {
        let mut l = L::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        l.hold(&cart("a"), &[alloc("s1", 1)], at(0), at(15)).unwrap();
        l.hold(&cart("b"), &[alloc("s1", 1)], at(0), at(5)).unwrap();
        assert_eq!(l.next_expiry(), Some(at(5)));
        l.commit(&order("ob"), &cart("b"), &[alloc("s1", 1)], at(6));
        assert_eq!(counts(&l, "s1").1, 1);
        assert_eq!(l.next_expiry(), Some(at(15)));
        assert_eq!(l.expire(at(20)), 1);
        assert_eq!(l.next_expiry(), None);
    }

    /// Random command sequences on the row-backed ledger and on the model (the ledger as
    /// it was, one value in memory) give the same answers and the same counts.
    #[test]
    fn the_row_ledger_follows_the_model() {
        use super::model::ModelLedger;
        let locations = [loc("s1"), loc("s2"), loc("w1")];
        let refs = [cart("c1"), cart("c2"), cart("c3"), cart("order:o1")];
        let orders = [order("o1"), order("o2"), order("o3")];
        for seed in 0..300u64 {
            let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut next = |n: u64| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % n) as usize
            };
            let (mut rows, mut model) = (L::default(), ModelLedger::default());
            let mut commitments: BTreeMap<OrderRef, Commitment> = BTreeMap::new();
            let mut now = at(0);
            for step in 0..120 {
                now += Duration::seconds(next(90) as i64);
                let l = &locations[next(3)];
                let r = &refs[next(4)];
                let o = &orders[next(3)];
                let q = PositiveQuantity::new(1 + next(4) as i64).unwrap();
                let until = now + Duration::seconds(30 + next(600) as i64);
                let allocations: Vec<Allocation> =
                    (0..1 + next(2)).map(|_| Allocation { location_id: locations[next(3)].clone(), quantity: PositiveQuantity::new(1 + next(3) as i64).unwrap() }).collect();
                let at = format!("seed {seed} step {step}");
                match next(9) {
                    0 => {
                        let d = next(6) as i64 - 3;
                        let change = if next(2) == 0 { set(next(8) as i64) } else { delta(if d >= 0 { d + 1 } else { d }) };
                        assert_eq!(rows.adjust(l, change, now), model.adjust(l, change, now), "{at}: adjust");
                    }
                    1 | 2 => assert_eq!(rows.hold(r, &allocations, now, until), model.hold(r, &allocations, now, until), "{at}: hold"),
                    3 => assert_eq!(rows.hold_anywhere(r, q, &locations, now, until), model.hold_anywhere(r, q, &locations, now, until), "{at}: hold anywhere"),
                    4 => assert_eq!(rows.release(r), model.release(r), "{at}: release"),
                    5 => {
                        let ours = rows.commit(o, r, &allocations, now);
                        if let Some(c) = model.commit(commitments.get(o), r, &allocations, now).expect("the model answers commits with a commitment") {
                            commitments.insert(o.clone(), c);
                        }
                        assert_eq!(Some(&ours), commitments.get(o), "{at}: commit");
                    }
                    6 | 7 => {
                        let hand_over = next(2) == 0;
                        let ours = if hand_over { rows.hand_over(o) } else { rows.restock(o) };
                        let prior = commitments.get(o).cloned();
                        let theirs = if hand_over { model.hand_over(o, prior.as_ref()) } else { model.restock(o, prior.as_ref()) };
                        let theirs = theirs.map(|changed| {
                            if let Some(c) = changed {
                                commitments.insert(o.clone(), c);
                            }
                        });
                        assert_eq!(ours, theirs, "{at}: {}", if hand_over { "hand over" } else { "restock" });
                    }
                    _ => assert_eq!(rows.holds_of(r, now), model.holds_of(r, now), "{at}: holds of {r:?}"),
                }
                assert_eq!(rows.view(now), model.view(now), "{at}: counts");
                assert_eq!(in_memory(rows.0.view_for(r, now)), model.view_for(r, now), "{at}: counts as {r:?} sees them");
                assert_eq!(rows.next_expiry(), model.next_expiry(), "{at}: next expiry");
                assert_eq!(rows.0.rows().commitments(), &commitments, "{at}: commitments");
            }
        }
    }
}
