//! The stock ledger of one SKU across every location: what is on hand, what carts
//! hold, what placed orders have committed. One ledger is owned by one single writer
//! (the SKU's Durable Object), so every check-and-change here is serial: the rules
//! below are the whole story of why nothing is ever oversold.
//!
//! Per location: `on_hand` units are sellable and not yet promised to an order;
//! `held` of them sit in carts for a while; `available = on_hand - held`.
//! Placing an order moves units from `on_hand` to `committed`; handing them over
//! removes them from `committed`; cancelling puts them back on hand. What became of
//! each order's units is its `Commitment`, kept by the owner next to the ledger (one
//! record per order), so every command on an order is idempotent: committing,
//! handing over or restocking an order twice changes nothing the second time.

use crate::shared::ids::LocationId;
use crate::shared::quantity::{Delta, PositiveQuantity, Quantity, MAX_UNITS};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts of one SKU at one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Level {
    pub on_hand: u32,
    pub committed: u32,
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

/// Every location's counts and every live hold of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StockLedger {
    levels: BTreeMap<LocationId, Level>,
    holds: Vec<Hold>,
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

/// A command on an order's units: the commitment to store when it changed.
pub type CommitmentChange = Result<Option<Commitment>, StockError>;

/// The placed order a commitment belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderRef(pub String);

impl StockLedger {
    /// Drops holds that lapsed; returns whether anything changed.
    pub fn expire_holds(&mut self, now: DateTime<Utc>) -> bool {
        let before = self.holds.len();
        self.holds.retain(|h| h.expires_at > now);
        before != self.holds.len()
    }

    /// When the next hold lapses, for the alarm.
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.holds.iter().map(|h| h.expires_at).min()
    }

    pub fn level(&self, location: &LocationId) -> Level {
        self.levels.get(location).copied().unwrap_or_default()
    }

    fn held_at(&self, location: &LocationId, now: DateTime<Utc>) -> u32 {
        self.live_holds(now).filter(|h| &h.location_id == location).map(|h| h.quantity.get()).sum()
    }

    fn live_holds(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Hold> {
        self.holds.iter().filter(move |h| h.expires_at > now)
    }

    /// Units that can be sold now at a location.
    pub fn available_at(&self, location: &LocationId, now: DateTime<Utc>) -> u32 {
        self.level(location).on_hand.saturating_sub(self.held_at(location, now))
    }

    /// Every location that ever had a count of this SKU, with what is held and available.
    pub fn view(&self, now: DateTime<Utc>) -> Vec<LocationLevel> {
        self.levels
            .iter()
            .map(|(id, level)| {
                let held = self.held_at(id, now);
                LocationLevel {
                    location_id: id.clone(),
                    on_hand: level.on_hand,
                    held,
                    available: level.on_hand.saturating_sub(held),
                    committed: level.committed,
                }
            })
            .collect()
    }

    /// Applies a count or a correction from a stock system.
    pub fn adjust(
        &mut self,
        location: &LocationId,
        change: StockChange,
        now: DateTime<Utc>,
    ) -> Result<Adjusted, StockError> {
        self.expire_holds(now);
        let before = self.level(location).on_hand;
        let held = self.held_at(location, now);
        let after = match change {
            StockChange::Set(q) => q.get() as i64,
            StockChange::Delta(d) => before as i64 + d.get() as i64,
        };
        if after > MAX_UNITS as i64 {
            return Err(StockError::AboveLimit { location_id: location.clone(), on_hand_after: after, max: MAX_UNITS });
        }
        let released_holds = match change {
            StockChange::Delta(_) if after < held as i64 => {
                return Err(StockError::BelowHeld { location_id: location.clone(), held, on_hand_after: after });
            }
            StockChange::Delta(_) => Vec::new(),
            StockChange::Set(_) => self.release_newest_above(location, after as u32, held),
        };
        self.levels.entry(location.clone()).or_default().on_hand = after as u32;
        Ok(Adjusted { on_hand_before: before, on_hand_after: after as u32, released_holds })
    }

    /// After a recount below what carts hold, the newest holds at that location give way.
    fn release_newest_above(&mut self, location: &LocationId, on_hand: u32, mut held: u32) -> Vec<HoldRef> {
        let mut released = Vec::new();
        while held > on_hand {
            let newest = self
                .holds
                .iter()
                .enumerate()
                .filter(|(_, h)| &h.location_id == location)
                .max_by_key(|(_, h)| h.placed_at)
                .map(|(i, _)| i)
                .expect("held > 0 implies a hold at this location");
            let hold = self.holds.remove(newest);
            held -= hold.quantity.get();
            released.push(hold.reference);
        }
        released
    }

    /// Sets aside units for `reference`, replacing whatever it held before. All or nothing:
    /// if any location is short, nothing changes and every short location is named.
    pub fn hold(
        &mut self,
        reference: &HoldRef,
        allocations: &[Allocation],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StockError> {
        self.expire_holds(now);
        let previous: Vec<Hold> = self.take_holds(reference);
        let mut wanted: BTreeMap<&LocationId, u32> = BTreeMap::new();
        for a in allocations {
            *wanted.entry(&a.location_id).or_default() += a.quantity.get();
        }
        let short: Vec<Short> = wanted
            .iter()
            .filter_map(|(loc, &requested)| {
                let available = self.available_at(loc, now);
                (requested > available).then(|| Short { location_id: (*loc).clone(), requested, available })
            })
            .collect();
        if !short.is_empty() {
            self.holds.extend(previous);
            return Err(StockError::Shortage { short });
        }
        for (loc, requested) in wanted {
            self.holds.push(Hold {
                reference: reference.clone(),
                location_id: loc.clone(),
                quantity: PositiveQuantity::new(requested as i64).expect("sum of positive quantities within limits"),
                placed_at: now,
                expires_at,
            });
        }
        Ok(())
    }

    fn take_holds(&mut self, reference: &HoldRef) -> Vec<Hold> {
        let (taken, kept) = std::mem::take(&mut self.holds).into_iter().partition(|h| &h.reference == reference);
        self.holds = kept;
        taken
    }

    /// Lets go of whatever `reference` holds; returns the units released.
    pub fn release(&mut self, reference: &HoldRef) -> u32 {
        self.take_holds(reference).iter().map(|h| h.quantity.get()).sum()
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
    ) -> Result<LocationId, StockError> {
        self.expire_holds(now);
        // What each location could give this reference: its own holds count as its own.
        let previous = self.take_holds(reference);
        let offers: Vec<(LocationId, u32)> = eligible.iter().map(|loc| (loc.clone(), self.available_at(loc, now))).collect();
        self.holds.extend(previous);
        let best = offers.iter().fold(None, |best: Option<&(LocationId, u32)>, offer| match best {
            Some((_, b)) if *b >= offer.1 => best,
            _ => Some(offer),
        });
        let location = match best {
            Some((loc, avail)) if *avail >= quantity.get() => loc.clone(),
            _ => {
                let short = offers
                    .into_iter()
                    .map(|(location_id, available)| Short { location_id, requested: quantity.get(), available })
                    .collect();
                return Err(StockError::Shortage { short });
            }
        };
        self.hold(reference, &[Allocation { location_id: location.clone(), quantity }], now, expires_at)?;
        Ok(location)
    }

    /// Every location's counts as `reference` sees them: what it holds itself counts as
    /// available to it (a basket being ordered may use its own holds).
    pub fn view_for(&self, reference: &HoldRef, now: DateTime<Utc>) -> Vec<LocationLevel> {
        let own = self.holds_of(reference, now);
        self.view(now)
            .into_iter()
            .map(|mut level| {
                let mine: u32 = own.iter().filter(|a| a.location_id == level.location_id).map(|a| a.quantity.get()).sum();
                level.held -= mine;
                level.available += mine;
                level
            })
            .collect()
    }

    /// Units `reference` holds at each location right now.
    pub fn holds_of(&self, reference: &HoldRef, now: DateTime<Utc>) -> Vec<Allocation> {
        self.live_holds(now)
            .filter(|h| &h.reference == reference)
            .map(|h| Allocation { location_id: h.location_id.clone(), quantity: h.quantity })
            .collect()
    }

    /// Commits `allocations` to a placed order: units move from on hand to committed.
    /// What `hold` holds is let go first, so its units count; a lapsed hold is
    /// re-acquired when the stock is still there; when it is not, the commit is refused
    /// for good (`Commitment::Refused`). An order that already has a commitment (in any
    /// state) is never committed again.
    pub fn commit(
        &mut self,
        prior: Option<&Commitment>,
        hold: &HoldRef,
        allocations: &[Allocation],
        now: DateTime<Utc>,
    ) -> CommitmentChange {
        if prior.is_some() {
            return Ok(None);
        }
        match self.hold(hold, allocations, now, now + chrono::Duration::seconds(1)) {
            Err(StockError::Shortage { short }) => return Ok(Some(Commitment::Refused { short })),
            other => other?,
        }
        self.take_holds(hold);
        for a in allocations {
            let level = self.levels.entry(a.location_id.clone()).or_default();
            level.on_hand -= a.quantity.get();
            level.committed += a.quantity.get();
        }
        Ok(Some(Commitment::Committed { allocations: allocations.to_vec() }))
    }

    /// An order's committed units leave their locations (collected or shipped). Once
    /// settled otherwise (handed over, restocked, void) nothing changes.
    pub fn hand_over(&mut self, order: &OrderRef, prior: Option<&Commitment>) -> CommitmentChange {
        match prior {
            Some(Commitment::Committed { allocations }) => {
                for a in allocations {
                    self.levels.entry(a.location_id.clone()).or_default().committed -= a.quantity.get();
                }
                Ok(Some(Commitment::HandedOver { allocations: allocations.clone() }))
            }
            Some(Commitment::HandedOver { .. } | Commitment::Restocked { .. } | Commitment::Void) => Ok(None),
            None | Some(Commitment::Refused { .. }) => Err(StockError::NotCommitted { order: order.clone() }),
        }
    }

    /// A cancelled order's committed units go back on hand where they came from; an
    /// order never committed is voided, so that a late commit takes nothing.
    pub fn restock(&mut self, order: &OrderRef, prior: Option<&Commitment>) -> CommitmentChange {
        match prior {
            Some(Commitment::Committed { allocations }) => {
                for a in allocations {
                    let level = self.levels.entry(a.location_id.clone()).or_default();
                    level.committed -= a.quantity.get();
                    level.on_hand += a.quantity.get();
                }
                Ok(Some(Commitment::Restocked { allocations: allocations.clone() }))
            }
            None => Ok(Some(Commitment::Void)),
            Some(Commitment::Restocked { .. } | Commitment::Void | Commitment::Refused { .. }) => Ok(None),
            Some(Commitment::HandedOver { .. }) => Err(StockError::HandedOver { order: order.clone() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

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
    fn counts_and_deltas() {
        let mut l = StockLedger::default();
        let a = l.adjust(&loc("s1"), set(5), at(0)).unwrap();
        assert_eq!((a.on_hand_before, a.on_hand_after), (0, 5));
        l.adjust(&loc("s1"), delta(-2), at(0)).unwrap();
        assert_eq!(l.available_at(&loc("s1"), at(0)), 3);
        assert!(matches!(l.adjust(&loc("s1"), delta(-4), at(0)), Err(StockError::BelowHeld { held: 0, .. })));
        assert!(matches!(l.adjust(&loc("s1"), set(1_000_000), at(0)).and_then(|_| l.adjust(&loc("s1"), delta(1), at(0))), Err(StockError::AboveLimit { .. })));
    }

    #[test]
    fn a_delta_cannot_go_below_what_is_held() {
        let mut l = StockLedger::default();
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
        let mut l = StockLedger::default();
        l.adjust(&loc("s1"), set(4), at(0)).unwrap();
        l.hold(&cart("old"), &[alloc("s1", 2)], at(0), at(15)).unwrap();
        l.hold(&cart("new"), &[alloc("s1", 2)], at(1), at(15)).unwrap();
        let a = l.adjust(&loc("s1"), set(3), at(2)).unwrap();
        assert_eq!(a.released_holds, vec![cart("new")]);
        assert_eq!(l.view(at(2))[0].held, 2);
    }

    #[test]
    fn holds_are_all_or_nothing_and_name_every_short_location() {
        let mut l = StockLedger::default();
        l.adjust(&loc("s1"), set(1), at(0)).unwrap();
        l.adjust(&loc("s2"), set(1), at(0)).unwrap();
        let err = l.hold(&cart("c"), &[alloc("s1", 1), alloc("s2", 2), alloc("s3", 1)], at(0), at(15)).unwrap_err();
        let StockError::Shortage { short } = err else { panic!() };
        assert_eq!(short.iter().map(|s| s.location_id.as_str()).collect::<Vec<_>>(), ["s2", "s3"]);
        assert_eq!(l.available_at(&loc("s1"), at(0)), 1, "nothing held after a refusal");
    }

    #[test]
    fn holding_again_replaces_the_previous_hold() {
        let mut l = StockLedger::default();
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

    #[test]
    fn commit_hand_over_and_cancel_conserve_units() {
        let mut l = StockLedger::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        l.hold(&cart("c1"), &[alloc("s1", 2)], at(0), at(15)).unwrap();
        let committed = l.commit(None, &cart("c1"), &[alloc("s1", 2)], at(1)).unwrap();
        assert_eq!(committed, Some(Commitment::Committed { allocations: vec![alloc("s1", 2)] }));
        assert_eq!(l.level(&loc("s1")), Level { on_hand: 1, committed: 2 });
        assert_eq!(l.view(at(1))[0].held, 0, "the cart's hold became the commitment");
        // a retried commit changes nothing
        assert_eq!(l.commit(committed.as_ref(), &cart("c1"), &[alloc("s1", 2)], at(1)), Ok(None));
        assert_eq!(l.level(&loc("s1")), Level { on_hand: 1, committed: 2 });
        let restocked = l.restock(&order("o1"), committed.as_ref()).unwrap();
        assert_eq!(restocked, Some(Commitment::Restocked { allocations: vec![alloc("s1", 2)] }));
        assert_eq!(l.level(&loc("s1")), Level { on_hand: 3, committed: 0 });
        // once settled, every later command on the order changes nothing
        assert_eq!(l.restock(&order("o1"), restocked.as_ref()), Ok(None));
        assert_eq!(l.hand_over(&order("o1"), restocked.as_ref()), Ok(None));
        assert_eq!(l.commit(restocked.as_ref(), &cart("c1"), &[alloc("s1", 2)], at(2)), Ok(None));
        assert_eq!(l.level(&loc("s1")), Level { on_hand: 3, committed: 0 });
        assert!(matches!(l.hand_over(&order("o2"), None), Err(StockError::NotCommitted { .. })));
    }

    #[test]
    fn hand_over_removes_committed_units_once() {
        let mut l = StockLedger::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        let committed = l.commit(None, &cart("o1"), &[alloc("s1", 3)], at(0)).unwrap();
        let refused = l.commit(None, &cart("o2"), &[alloc("s1", 1)], at(0)).unwrap();
        let Some(Commitment::Refused { short }) = &refused else { panic!("nothing left: {refused:?}") };
        assert_eq!(short, &vec![Short { location_id: loc("s1"), requested: 1, available: 0 }]);
        assert!(refused.as_ref().is_some_and(|r| r.answer().is_err()), "a refused commit answers a shortage");
        assert_eq!(l.commit(refused.as_ref(), &cart("o2"), &[alloc("s1", 1)], at(0)), Ok(None), "and stays refused");
        assert_eq!(l.restock(&order("o2"), refused.as_ref()), Ok(None), "nothing to put back");
        let handed = l.hand_over(&order("o1"), committed.as_ref()).unwrap();
        assert_eq!(handed, Some(Commitment::HandedOver { allocations: vec![alloc("s1", 3)] }));
        assert_eq!(l.level(&loc("s1")), Level { on_hand: 0, committed: 0 });
        assert_eq!(l.hand_over(&order("o1"), handed.as_ref()), Ok(None));
        assert_eq!(l.restock(&order("o1"), handed.as_ref()), Err(StockError::HandedOver { order: order("o1") }));
        assert_eq!(l.level(&loc("s1")), Level { on_hand: 0, committed: 0 });
    }

    #[test]
    fn cancelling_before_the_commit_voids_it() {
        let mut l = StockLedger::default();
        l.adjust(&loc("s1"), set(2), at(0)).unwrap();
        let void = l.restock(&order("o1"), None).unwrap();
        assert_eq!(void, Some(Commitment::Void));
        assert_eq!(l.commit(void.as_ref(), &cart("o1"), &[alloc("s1", 2)], at(0)), Ok(None), "a late commit takes nothing");
        assert_eq!(l.level(&loc("s1")), Level { on_hand: 2, committed: 0 });
    }

    #[test]
    fn hold_anywhere_picks_the_location_with_most_available() {
        let mut l = StockLedger::default();
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
        let mut l = StockLedger::default();
        l.adjust(&loc("s1"), set(3), at(0)).unwrap();
        l.hold(&cart("a"), &[alloc("s1", 1)], at(0), at(15)).unwrap();
        l.hold(&cart("b"), &[alloc("s1", 1)], at(0), at(5)).unwrap();
        assert_eq!(l.next_expiry(), Some(at(5)));
        l.commit(None, &cart("b"), &[alloc("s1", 1)], at(6)).unwrap();
        assert_eq!(l.level(&loc("s1")).committed, 1);
        assert_eq!(l.next_expiry(), Some(at(15)));
        assert!(l.expire_holds(at(20)));
        assert_eq!(l.next_expiry(), None);
    }
}
