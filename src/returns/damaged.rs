//! Damaged units a location received back: never available, counted apart at that
//! location until written off. A write-off names the SKU, how many units and why, and
//! records who and when; it never takes a location's count of a SKU below zero.

use crate::shared::ids::{LocationId, Sku};
use crate::shared::quantity::PositiveQuantity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A write-off as a back office or a store asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteOffRequest {
    pub sku: Sku,
    pub quantity: PositiveQuantity,
    /// Why (destroyed, sent back to the supplier, ...).
    #[serde(deserialize_with = "crate::shared::text::line")]
    pub reason: String,
}

/// Damaged units of one SKU written off at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOff {
    pub id: String,
    pub location_id: LocationId,
    pub sku: Sku,
    pub quantity: PositiveQuantity,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// How many damaged units of a SKU a location still holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamagedCount {
    pub sku: Sku,
    /// Received damaged, in all.
    pub received: u32,
    pub written_off: u32,
    /// Still there: received less written off.
    pub remaining: u32,
}

impl DamagedCount {
    pub fn new(sku: Sku, received: u32, written_off: u32) -> Self {
        DamagedCount { sku, received, written_off, remaining: received.saturating_sub(written_off) }
    }
}

/// Why a write-off was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteOffError {
    #[error("{requested} damaged units of {sku} to write off, only {remaining} left at this location")]
    ExceedsDamaged { sku: Sku, requested: u32, remaining: u32 },
}

impl WriteOffRequest {
    /// The write-off if the location still holds that many damaged units of the SKU.
    pub fn write_off(self, id: String, location_id: LocationId, remaining: u32, by: &str, at: DateTime<Utc>) -> Result<WriteOff, WriteOffError> {
        if self.quantity.get() > remaining {
            return Err(WriteOffError::ExceedsDamaged { sku: self.sku, requested: self.quantity.get(), remaining });
        }
        Ok(WriteOff { id, location_id, sku: self.sku, quantity: self.quantity, reason: self.reason, by: by.to_owned(), at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_off_never_takes_the_count_below_zero() {
        let request: WriteOffRequest = serde_json::from_value(serde_json::json!({ "sku": "MUG", "quantity": 2, "reason": " shattered " })).unwrap();
        let at = LocationId::parse("s1").unwrap();
        let now = DateTime::UNIX_EPOCH;
        let refused = request.clone().write_off("wo_1".into(), at.clone(), 1, "key", now);
        assert_eq!(refused, Err(WriteOffError::ExceedsDamaged { sku: Sku::parse("MUG").unwrap(), requested: 2, remaining: 1 }));
        let written = request.write_off("wo_1".into(), at, 2, "key", now).unwrap();
        assert_eq!((written.quantity.get(), written.reason.as_str()), (2, "shattered"));
        assert_eq!(DamagedCount::new(Sku::parse("MUG").unwrap(), 3, 2).remaining, 1);
        assert!(serde_json::from_value::<WriteOffRequest>(serde_json::json!({ "sku": "MUG", "quantity": 0, "reason": "x" })).is_err());
        assert!(serde_json::from_value::<WriteOffRequest>(serde_json::json!({ "sku": "MUG", "quantity": 1 })).is_err());
    }
}
