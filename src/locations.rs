//! Where stock lives and where shoppers get it: stores, warehouses and pickup points.

use crate::shared::geo::Position;
use crate::shared::ids::LocationId;
use crate::shared::text;
use serde::{Deserialize, Serialize};

/// What kind of place a location is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Store,
    Warehouse,
    PickupPoint,
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::Store => "store",
            LocationKind::Warehouse => "warehouse",
            LocationKind::PickupPoint => "pickup_point",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "store" => Some(LocationKind::Store),
            "warehouse" => Some(LocationKind::Warehouse),
            "pickup_point" => Some(LocationKind::PickupPoint),
            _ => None,
        }
    }
}

/// A postal address, as printed on a shipping label or a store page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(deserialize_with = "text::line")]
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "text::optional_line")]
    pub line2: Option<String>,
    #[serde(deserialize_with = "text::line")]
    pub city: String,
    #[serde(deserialize_with = "text::line")]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(deserialize_with = "text::country")]
    pub country: String,
}

/// What a back-office system sends to create or replace a location.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationDraft {
    #[serde(deserialize_with = "text::line")]
    pub name: String,
    pub kind: LocationKind,
    pub address: Address,
    #[serde(deserialize_with = "crate::shared::geo::latitude")]
    pub latitude: f64,
    #[serde(deserialize_with = "crate::shared::geo::longitude")]
    pub longitude: f64,
    pub ships_orders: bool,
    pub offers_pickup: bool,
}

/// A location as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    pub address: Address,
    pub latitude: f64,
    pub longitude: f64,
    pub ships_orders: bool,
    pub offers_pickup: bool,
    pub updated_at: String,
}

impl Location {
    pub fn from_draft(id: LocationId, draft: LocationDraft, updated_at: String) -> Self {
        Location {
            id,
            name: draft.name,
            kind: draft.kind,
            address: draft.address,
            latitude: draft.latitude,
            longitude: draft.longitude,
            ships_orders: draft.ships_orders,
            offers_pickup: draft.offers_pickup,
            updated_at,
        }
    }
    pub fn position(&self) -> Position {
        Position { latitude: self.latitude, longitude: self.longitude }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(json: &str) -> Result<LocationDraft, serde_json::Error> {
        serde_json::from_str(json)
    }

    const GOOD: &str = r#"{"name":"Kalverstraat","kind":"store","address":{"line1":"Kalverstraat 1","city":"Amsterdam","postal_code":"1012 NX","country":"NL"},"latitude":52.37,"longitude":4.89,"ships_orders":true,"offers_pickup":true}"#;

    #[test]
    fn parses_a_store() {
        let d = draft(GOOD).unwrap();
        assert_eq!(d.kind, LocationKind::Store);
        assert_eq!(d.latitude, 52.37);
    }

    #[test]
    fn refuses_bad_locations() {
        assert!(draft(&GOOD.replace("\"store\"", "\"shop\"")).is_err());
        assert!(draft(&GOOD.replace("52.37", "123")).is_err());
        assert!(draft(&GOOD.replace("\"NL\"", "\"nl\"")).is_err());
        assert!(draft(&GOOD.replace("\"Kalverstraat\"", "\"  \"")).is_err());
        assert!(draft(&GOOD.replace("\"offers_pickup\":true", "\"offers_pickup\":true,\"x\":1")).is_err());
        assert!(draft(&GOOD.replace(",\"ships_orders\":true", "")).is_err());
    }
}
