//! Stock adjustments: what ERP, warehouse and POS systems send to change a count,
//! and the record each one leaves behind so stock can always be explained.

use crate::shared::ids::{LocationId, Sku};
use crate::shared::text;
use crate::inventory::ledger::{HoldRef, StockChange};
use crate::shared::quantity::{Delta, Quantity};
use serde::{Deserialize, Serialize};

/// Most released holds an adjustment record names.
pub const MAX_LISTED_RELEASES: usize = 100;

/// Why a count changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustmentReason {
    Received,
    Recount,
    Damaged,
    Lost,
    Found,
    CustomerReturn,
    SoldOffline,
    TransferIn,
    TransferOut,
    Correction,
}

/// The body of `POST /v1/stock/{sku}/adjustments`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "AdjustmentBody")]
pub struct AdjustmentRequest {
    pub location_id: LocationId,
    pub change: StockChange,
    pub reason: AdjustmentReason,
    pub note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjustmentBody {
    location_id: LocationId,
    kind: ChangeKind,
    quantity: i64,
    reason: AdjustmentReason,
    #[serde(default, deserialize_with = "text::optional_line")]
    note: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum ChangeKind {
    Set,
    Delta,
}

impl TryFrom<AdjustmentBody> for AdjustmentRequest {
    type Error = String;
    fn try_from(b: AdjustmentBody) -> Result<Self, String> {
        let change = match b.kind {
            ChangeKind::Set => StockChange::Set(Quantity::new(b.quantity).map_err(|e| format!("quantity: {e}"))?),
            ChangeKind::Delta => {
                StockChange::Delta(Delta::new(b.quantity).map_err(|e| format!("quantity: {e} (and not 0)"))?)
            }
        };
        Ok(AdjustmentRequest { location_id: b.location_id, change, reason: b.reason, note: b.note })
    }
}

/// An applied adjustment, as listed for audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdjustmentRecord {
    pub id: String,
    pub sku: Sku,
    pub location_id: LocationId,
    #[serde(flatten)]
    pub change: StockChange,
    pub reason: AdjustmentReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub on_hand_before: u32,
    pub on_hand_after: u32,
    /// The newest holds a recount released, at most [`MAX_LISTED_RELEASES`] of them (a
    /// record stays small however many carts a recount empties).
    pub released_holds: Vec<HoldRef>,
    /// How many holds the recount released in all.
    pub released_hold_count: u32,
    /// The API key that made the change.
    pub recorded_by: String,
    pub recorded_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<AdjustmentRequest, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn parses_set_and_delta() {
        let r = parse(r#"{"location_id":"s1","kind":"set","quantity":0,"reason":"recount"}"#).unwrap();
        assert_eq!(r.change, StockChange::Set(Quantity::ZERO));
        let r = parse(r#"{"location_id":"s1","kind":"delta","quantity":-2,"reason":"damaged","note":"wet box"}"#).unwrap();
        assert_eq!(r.change, StockChange::Delta(Delta::new(-2).unwrap()));
    }

    #[test]
    fn refuses_nonsense() {
        for bad in [
            r#"{"location_id":"s1","kind":"set","quantity":-1,"reason":"recount"}"#,
            r#"{"location_id":"s1","kind":"delta","quantity":0,"reason":"recount"}"#,
            r#"{"location_id":"s1","kind":"delta","quantity":5000000,"reason":"recount"}"#,
            r#"{"location_id":"s1","kind":"add","quantity":1,"reason":"recount"}"#,
            r#"{"location_id":"s1","kind":"set","quantity":1,"reason":"because"}"#,
            r#"{"location_id":"s1","kind":"set","quantity":1.5,"reason":"recount"}"#,
            r#"{"location_id":"s1","kind":"set","quantity":1,"reason":"recount","extra":true}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn records_serialize_flat() {
        let rec = AdjustmentRecord {
            id: "adj_1".into(),
            sku: Sku::parse("A").unwrap(),
            location_id: LocationId::parse("s1").unwrap(),
            change: StockChange::Delta(Delta::new(3).unwrap()),
            reason: AdjustmentReason::Received,
            note: None,
            on_hand_before: 1,
            on_hand_after: 4,
            released_holds: vec![],
            released_hold_count: 0,
            recorded_by: "key_1".into(),
            recorded_at: "2026-01-01T00:00:00Z".into(),
        };
        let v = serde_json::to_value(&rec).unwrap();
        assert_eq!(v["kind"], "delta");
        assert_eq!(v["quantity"], 3);
    }
}
