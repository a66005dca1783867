//! Shorter cart holds while a SKU is scarce: once the units held in carts reach a share
//! of what the locations a cart could take them from have on hand, a new or renewed hold
//! lasts at most a short term. In a flash sale, carts that will not check out give the
//! units back in minutes instead of a quarter of an hour, and a storefront key that opens
//! many carts cannot keep a product unavailable for long.

use crate::inventory::ledger::LocationLevel;
use crate::shared::ids::LocationId;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// From which held share of on hand holds get shorter, and how short they get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScarceHoldsFields")]
pub struct ScarceHolds {
    held_percent: u8,
    shortest_seconds: u32,
}

#[derive(Deserialize)]
struct ScarceHoldsFields {
    held_percent: u8,
    shortest_seconds: u32,
}

impl TryFrom<ScarceHoldsFields> for ScarceHolds {
    type Error = &'static str;
    fn try_from(fields: ScarceHoldsFields) -> Result<Self, Self::Error> {
        ScarceHolds::new(fields.held_percent, fields.shortest_seconds).ok_or("held_percent must be 1 to 100 and shortest_seconds positive")
    }
}

impl ScarceHolds {
    /// `held_percent` of on hand (1 to 100) held makes a SKU scarce; holds then last at
    /// most `shortest_seconds` (positive).
    pub fn new(held_percent: u8, shortest_seconds: u32) -> Option<Self> {
        ((1..=100).contains(&held_percent) && shortest_seconds > 0).then_some(ScarceHolds { held_percent, shortest_seconds })
    }

    /// When a hold asked to last until `asked` ends, given the SKU's levels before it:
    /// sooner while what is held at the `eligible` locations is at least the share of
    /// what they have on hand.
    pub fn hold_until(&self, levels: &[LocationLevel], eligible: &[LocationId], now: DateTime<Utc>, asked: DateTime<Utc>) -> DateTime<Utc> {
        let (held, on_hand) = levels
            .iter()
            .filter(|l| eligible.contains(&l.location_id))
            .fold((0u64, 0u64), |(held, on_hand), l| (held + u64::from(l.held), on_hand + u64::from(l.on_hand)));
        let scarce = on_hand > 0 && held * 100 >= on_hand * u64::from(self.held_percent);
        if scarce {
            asked.min(now + Duration::seconds(self.shortest_seconds.into()))
        } else {
            asked
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(id: &str, on_hand: u32, held: u32) -> LocationLevel {
        LocationLevel { location_id: LocationId::parse(id).unwrap(), on_hand, held, available: on_hand - held, committed: 0 }
    }

    #[test]
    fn holds_get_shorter_once_the_held_share_is_reached_at_the_eligible_locations() {
        let rule = ScarceHolds::new(50, 180).unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let asked = now + Duration::minutes(15);
        let eligible = [LocationId::parse("shop").unwrap()];
        let short = now + Duration::seconds(180);
        assert_eq!(rule.hold_until(&[level("shop", 10, 4)], &eligible, now, asked), asked, "40% held: as asked");
        assert_eq!(rule.hold_until(&[level("shop", 10, 5)], &eligible, now, asked), short, "50% held: shorter");
        assert_eq!(rule.hold_until(&[level("shop", 10, 5)], &eligible, now, now + Duration::seconds(60)), now + Duration::seconds(60), "never longer than asked");
        assert_eq!(rule.hold_until(&[level("shop", 10, 1), level("far", 2, 2)], &eligible, now, asked), asked, "only eligible locations count");
        assert_eq!(rule.hold_until(&[level("shop", 0, 0)], &eligible, now, asked), asked, "nothing on hand: the hold is refused anyway");
    }

    #[test]
    fn a_rule_is_a_share_from_1_to_100_percent_and_a_positive_term() {
        assert!(ScarceHolds::new(0, 180).is_none());
        assert!(ScarceHolds::new(101, 180).is_none());
        assert!(ScarceHolds::new(100, 0).is_none());
        assert!(serde_json::from_str::<ScarceHolds>(r#"{"held_percent":0,"shortest_seconds":60}"#).is_err());
        let rule: ScarceHolds = serde_json::from_str(r#"{"held_percent":80,"shortest_seconds":60}"#).unwrap();
        assert_eq!(rule, ScarceHolds::new(80, 60).unwrap());
    }
}
