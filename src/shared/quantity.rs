//! Counts of units: never negative, never absurd. A `Quantity` is what a shopper
//! buys or a location holds; a `Delta` is a signed correction to a count.

use serde::{Deserialize, Serialize};

/// The largest count one location may hold of one SKU, and the largest single change.
pub const MAX_UNITS: u32 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidQuantity {
    #[error("quantity must be between {min} and {max}, got {got}")]
    OutOfRange { min: i64, max: i64, got: i64 },
}

/// A non-negative count of units, at most [`MAX_UNITS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const ZERO: Quantity = Quantity(0);

    pub fn new(units: i64) -> Result<Self, InvalidQuantity> {
        if (0..=MAX_UNITS as i64).contains(&units) {
            Ok(Self(units as u32))
        } else {
            Err(InvalidQuantity::OutOfRange { min: 0, max: MAX_UNITS as i64, got: units })
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
}
impl TryFrom<i64> for Quantity {
    type Error = InvalidQuantity;
    fn try_from(v: i64) -> Result<Self, InvalidQuantity> {
        Quantity::new(v)
    }
}
impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

/// A count of at least one unit: what an order line, hold or adjustment moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct PositiveQuantity(u32);

impl PositiveQuantity {
    pub const ONE: PositiveQuantity = PositiveQuantity(1);

    pub fn new(units: i64) -> Result<Self, InvalidQuantity> {
        if (1..=MAX_UNITS as i64).contains(&units) {
            Ok(Self(units as u32))
        } else {
            Err(InvalidQuantity::OutOfRange { min: 1, max: MAX_UNITS as i64, got: units })
        }
    }
    pub fn get(self) -> u32 {
        self.0
    }
}
impl TryFrom<i64> for PositiveQuantity {
    type Error = InvalidQuantity;
    fn try_from(v: i64) -> Result<Self, InvalidQuantity> {
        PositiveQuantity::new(v)
    }
}
impl From<PositiveQuantity> for u32 {
    fn from(q: PositiveQuantity) -> u32 {
        q.0
    }
}

/// A signed, non-zero change of a count, at most [`MAX_UNITS`] either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Delta(i32);

impl Delta {
    pub fn new(units: i64) -> Result<Self, InvalidQuantity> {
        let max = MAX_UNITS as i64;
        if units != 0 && (-max..=max).contains(&units) {
            Ok(Self(units as i32))
        } else {
            Err(InvalidQuantity::OutOfRange { min: -max, max, got: units })
        }
    }
    pub fn get(self) -> i32 {
        self.0
    }
}
impl TryFrom<i64> for Delta {
    type Error = InvalidQuantity;
    fn try_from(v: i64) -> Result<Self, InvalidQuantity> {
        Delta::new(v)
    }
}
impl From<Delta> for i64 {
    fn from(d: Delta) -> i64 {
        d.0 as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_stay_in_range() {
        assert!(Quantity::new(0).is_ok());
        assert!(Quantity::new(-1).is_err());
        assert!(Quantity::new(MAX_UNITS as i64 + 1).is_err());
        assert!(PositiveQuantity::new(0).is_err());
        assert!(Delta::new(0).is_err());
        assert_eq!(Delta::new(-5).unwrap().get(), -5);
        assert!(serde_json::from_str::<Quantity>("-3").is_err());
        assert!(serde_json::from_str::<Quantity>("2.5").is_err());
        assert!(serde_json::from_str::<Quantity>("99999999999").is_err());
    }
}
