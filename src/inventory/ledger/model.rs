//! The ledger as it was before its rows were indexed: every level and hold in one
//! value. Kept as the model the row-backed ledger is checked against (tests only).

use super::{Adjusted, Allocation, Commitment, Hold, HoldRef, LocationLevel, OrderRef, Short, StockChange, StockError};
use crate::shared::ids::LocationId;
use crate::shared::quantity::{PositiveQuantity, MAX_UNITS};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// A command on an order's units: the commitment to store when it changed.
pub type CommitmentChange = Result<Option<Commitment>, StockError>;

/// Counts of one SKU at one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Level {
    pub on_hand: u32,
    pub committed: u32,
}

/// Every location's counts and every live hold of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelLedger {
    levels: BTreeMap<LocationId, Level>,
    holds: Vec<Hold>,
}

impl ModelLedger {
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
            None | Some(Commitment::Refused { .. } | Commitment::Returned { .. }) => Err(StockError::NotCommitted { order: order.clone() }),
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
            Some(Commitment::HandedOver { .. } | Commitment::Returned { .. }) => Err(StockError::HandedOver { order: order.clone() }),
        }
    }
}

