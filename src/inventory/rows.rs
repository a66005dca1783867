//! Where a SKU's ledger keeps its rows: per-location totals, one row per hold and one
//! per order's commitment, each reached through an index, so that no command costs more
//! as holds pile up (a flash sale may hold tens of thousands of carts' units). The stock
//! Durable Object keeps them in its SQLite; `MemoryRows` keeps them in maps, for the
//! simulation and the tests.

use crate::inventory::ledger::{Commitment, Hold, HoldRef, Level, OrderRef};
use crate::shared::ids::LocationId;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

/// The storage a ledger runs over. Every call is synchronous and indexed: by location,
/// by hold reference, by expiry, by placement time within a location.
pub trait LedgerRows {
    type Error;
    /// Every location with a count of this SKU, in location order.
    fn levels(&self) -> Result<Vec<(LocationId, Level)>, Self::Error>;
    fn level(&self, at: &LocationId) -> Result<Option<Level>, Self::Error>;
    fn put_level(&mut self, at: &LocationId, level: Level) -> Result<(), Self::Error>;
    /// The holds of one reference (at most one per location).
    fn holds_of(&self, reference: &HoldRef) -> Result<Vec<Hold>, Self::Error>;
    /// Adds a hold after every earlier one (the newest is the one added last).
    fn insert_hold(&mut self, hold: &Hold) -> Result<(), Self::Error>;
    fn delete_hold(&mut self, reference: &HoldRef, at: &LocationId) -> Result<(), Self::Error>;
    /// Up to `limit` holds at a location that have not lapsed by `now`, newest first.
    fn newest_live_holds_at(&self, at: &LocationId, now: DateTime<Utc>, limit: usize) -> Result<Vec<Hold>, Self::Error>;
    /// Up to `limit` holds that lapsed by `now`, earliest expiry first.
    fn lapsed(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Hold>, Self::Error>;
    /// Units of holds that lapsed by `now` and are still counted, per location.
    fn lapsed_units(&self, now: DateTime<Utc>) -> Result<Vec<(LocationId, u32)>, Self::Error>;
    fn next_expiry(&self) -> Result<Option<DateTime<Utc>>, Self::Error>;
    fn commitment(&self, order: &OrderRef) -> Result<Option<Commitment>, Self::Error>;
    fn put_commitment(&mut self, order: &OrderRef, commitment: &Commitment) -> Result<(), Self::Error>;
    /// Forgets an order's commitment (a placement withdrawing what it took before its order was written).
    fn delete_commitment(&mut self, order: &OrderRef) -> Result<(), Self::Error>;
}

/// The answer of a ledger over rows in memory, which cannot fail.
pub fn in_memory<T>(outcome: Result<T, Infallible>) -> T {
    match outcome {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// The rows in memory, indexed like the object's tables.
#[derive(Debug, Clone, Default)]
pub struct MemoryRows {
    levels: BTreeMap<LocationId, Level>,
    /// By reference and location, with the insertion sequence.
    holds: BTreeMap<HoldRef, BTreeMap<LocationId, (u64, Hold)>>,
    by_expiry: BTreeSet<(DateTime<Utc>, u64, HoldRef, LocationId)>,
    /// By location, then placement time and insertion sequence (newest last).
    by_placement: BTreeMap<LocationId, BTreeSet<(DateTime<Utc>, u64, HoldRef)>>,
    commitments: BTreeMap<OrderRef, Commitment>,
    next_seq: u64,
}

impl MemoryRows {
    /// Every hold, for checks in tests.
    pub fn holds(&self) -> impl Iterator<Item = &Hold> {
        self.holds.values().flat_map(|at| at.values().map(|(_, hold)| hold))
    }

    fn hold(&self, reference: &HoldRef, at: &LocationId) -> Option<&Hold> {
        self.holds.get(reference).and_then(|by_location| by_location.get(at)).map(|(_, hold)| hold)
    }

    /// Every commitment, for checks in tests.
    pub fn commitments(&self) -> &BTreeMap<OrderRef, Commitment> {
        &self.commitments
    }
}

impl LedgerRows for MemoryRows {
    type Error = Infallible;

    fn levels(&self) -> Result<Vec<(LocationId, Level)>, Infallible> {
        Ok(self.levels.iter().map(|(at, level)| (at.clone(), *level)).collect())
    }

    fn level(&self, at: &LocationId) -> Result<Option<Level>, Infallible> {
        Ok(self.levels.get(at).copied())
    }

    fn put_level(&mut self, at: &LocationId, level: Level) -> Result<(), Infallible> {
        self.levels.insert(at.clone(), level);
        Ok(())
    }

    fn holds_of(&self, reference: &HoldRef) -> Result<Vec<Hold>, Infallible> {
        Ok(self.holds.get(reference).map(|at| at.values().map(|(_, hold)| hold.clone()).collect()).unwrap_or_default())
    }

    fn insert_hold(&mut self, hold: &Hold) -> Result<(), Infallible> {
        self.next_seq += 1;
        let seq = self.next_seq;
        let (reference, at) = (hold.reference.clone(), hold.location_id.clone());
        self.by_expiry.insert((hold.expires_at, seq, reference.clone(), at.clone()));
        self.by_placement.entry(at.clone()).or_default().insert((hold.placed_at, seq, reference.clone()));
        self.holds.entry(reference).or_default().insert(at, (seq, hold.clone()));
        Ok(())
    }

    fn delete_hold(&mut self, reference: &HoldRef, at: &LocationId) -> Result<(), Infallible> {
        let Some(by_location) = self.holds.get_mut(reference) else { return Ok(()) };
        if let Some((seq, hold)) = by_location.remove(at) {
            self.by_expiry.remove(&(hold.expires_at, seq, reference.clone(), at.clone()));
            if let Some(placed) = self.by_placement.get_mut(at) {
                placed.remove(&(hold.placed_at, seq, reference.clone()));
            }
        }
        if by_location.is_empty() {
            self.holds.remove(reference);
        }
        Ok(())
    }

    fn newest_live_holds_at(&self, at: &LocationId, now: DateTime<Utc>, limit: usize) -> Result<Vec<Hold>, Infallible> {
        let placed = self.by_placement.get(at).into_iter().flat_map(|p| p.iter().rev());
        Ok(placed.filter_map(|(_, _, r)| self.hold(r, at)).filter(|h| h.expires_at > now).take(limit).cloned().collect())
    }

    fn lapsed(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Hold>, Infallible> {
        Ok(self
            .by_expiry
            .iter()
            .take_while(|(expires_at, ..)| *expires_at <= now)
            .take(limit)
            .filter_map(|(_, _, r, l)| self.hold(r, l).cloned())
            .collect())
    }

    fn lapsed_units(&self, now: DateTime<Utc>) -> Result<Vec<(LocationId, u32)>, Infallible> {
        let mut units: BTreeMap<LocationId, u32> = BTreeMap::new();
        for hold in self.lapsed(now, usize::MAX)? {
            *units.entry(hold.location_id).or_default() += hold.quantity.get();
        }
        Ok(units.into_iter().collect())
    }

    fn next_expiry(&self) -> Result<Option<DateTime<Utc>>, Infallible> {
        Ok(self.by_expiry.first().map(|(at, ..)| *at))
    }

    fn commitment(&self, order: &OrderRef) -> Result<Option<Commitment>, Infallible> {
        Ok(self.commitments.get(order).cloned())
    }

    fn put_commitment(&mut self, order: &OrderRef, commitment: &Commitment) -> Result<(), Infallible> {
        self.commitments.insert(order.clone(), commitment.clone());
        Ok(())
    }

    fn delete_commitment(&mut self, order: &OrderRef) -> Result<(), Infallible> {
        self.commitments.remove(order);
        Ok(())
    }
}
