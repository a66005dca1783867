//! How a shopper gets an order: picked up at a chosen store, delivered to an address,
//! or sold on the spot at a POS. The wire form names no location for an in-store sale:
//! the store key that rings it up decides where it happens.

use crate::shared::geo::Position;
use crate::shared::ids::LocationId;
use crate::locations::Address;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The three ways an order reaches its shopper, without their details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentKind {
    Pickup,
    Delivery,
    InStore,
}

impl FulfilmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FulfilmentKind::Pickup => "pickup",
            FulfilmentKind::Delivery => "delivery",
            FulfilmentKind::InStore => "in_store",
        }
    }
}

impl fmt::Display for FulfilmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a shopper (or the POS) asks for when placing an order, as sent on the wire:
/// `{"type":"pickup","location_id":".."}`,
/// `{"type":"delivery","address":{..},"latitude":..,"longitude":..}` or `{"type":"in_store"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FulfilmentChoice {
    Pickup {
        location_id: LocationId,
    },
    Delivery {
        address: Address,
        #[serde(deserialize_with = "crate::shared::geo::latitude")]
        latitude: f64,
        #[serde(deserialize_with = "crate::shared::geo::longitude")]
        longitude: f64,
    },
    /// A struct variant (not a unit one) so that unknown fields, such as a
    /// `location_id`, are refused rather than silently ignored.
    InStore {},
}

/// A fulfilment with every location it needs resolved: what an order records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FulfilmentRequest {
    Pickup {
        location_id: LocationId,
    },
    Delivery {
        address: Address,
        #[serde(flatten)]
        position: Position,
    },
    InStore {
        location_id: LocationId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FulfilmentError {
    #[error("fulfilment \"in_store\" is only for a store's own key: the sale happens at the store the key is bound to")]
    InStoreWithoutStore,
}

impl FulfilmentChoice {
    pub fn kind(&self) -> FulfilmentKind {
        match self {
            FulfilmentChoice::Pickup { .. } => FulfilmentKind::Pickup,
            FulfilmentChoice::Delivery { .. } => FulfilmentKind::Delivery,
            FulfilmentChoice::InStore {} => FulfilmentKind::InStore,
        }
    }

    /// Resolves the choice against the caller: an in-store sale takes place at the
    /// location of the store key (`pos_location`), and needs one.
    pub fn resolve(self, pos_location: Option<LocationId>) -> Result<FulfilmentRequest, FulfilmentError> {
        match self {
            FulfilmentChoice::Pickup { location_id } => Ok(FulfilmentRequest::Pickup { location_id }),
            FulfilmentChoice::Delivery { address, latitude, longitude } => {
                let position = Position { latitude, longitude };
                Ok(FulfilmentRequest::Delivery { address, position })
            }
            FulfilmentChoice::InStore {} => pos_location
                .map(|location_id| FulfilmentRequest::InStore { location_id })
                .ok_or(FulfilmentError::InStoreWithoutStore),
        }
    }
}

impl FulfilmentRequest {
    pub fn kind(&self) -> FulfilmentKind {
        match self {
            FulfilmentRequest::Pickup { .. } => FulfilmentKind::Pickup,
            FulfilmentRequest::Delivery { .. } => FulfilmentKind::Delivery,
            FulfilmentRequest::InStore { .. } => FulfilmentKind::InStore,
        }
    }

    /// The one location a pickup or in-store sale happens at (none for a delivery).
    pub fn location_id(&self) -> Option<&LocationId> {
        match self {
            FulfilmentRequest::Pickup { location_id } | FulfilmentRequest::InStore { location_id } => Some(location_id),
            FulfilmentRequest::Delivery { .. } => None,
        }
    }

    /// Where a delivery goes (none for pickup and in-store).
    pub fn destination(&self) -> Option<Position> {
        match self {
            FulfilmentRequest::Delivery { position, .. } => Some(*position),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESS: &str = r#"{"line1":"Damrak 1","city":"Amsterdam","postal_code":"1012 LG","country":"NL"}"#;

    fn loc(s: &str) -> LocationId {
        LocationId::parse(s).unwrap()
    }
    fn choice(json: &str) -> Result<FulfilmentChoice, serde_json::Error> {
        serde_json::from_str(json)
    }
    fn delivery_json() -> String {
        format!(r#"{{"type":"delivery","address":{ADDRESS},"latitude":52.37,"longitude":4.89}}"#)
    }

    #[test]
    fn parses_the_three_choices() {
        let pickup = choice(r#"{"type":"pickup","location_id":"ams-1"}"#).unwrap();
        assert_eq!(pickup, FulfilmentChoice::Pickup { location_id: loc("ams-1") });
        assert_eq!(pickup.kind(), FulfilmentKind::Pickup);
        let delivery = choice(&delivery_json()).unwrap();
        assert_eq!(delivery.kind(), FulfilmentKind::Delivery);
        let in_store = choice(r#"{"type":"in_store"}"#).unwrap();
        assert_eq!(in_store, FulfilmentChoice::InStore {});
    }

    #[test]
    fn refuses_bad_choices() {
        let bad = [
            r#"{"type":"pickup"}"#.to_owned(),
            r#"{"type":"pickup","location_id":"a b"}"#.to_owned(),
            r#"{"type":"pickup","location_id":"s1","extra":1}"#.to_owned(),
            r#"{"type":"in_store","location_id":"s1"}"#.to_owned(),
            r#"{"type":"ship_to_store"}"#.to_owned(),
            r#"{"location_id":"s1"}"#.to_owned(),
            delivery_json().replace("52.37", "91"),
            delivery_json().replace("4.89", "-180.5"),
            delivery_json().replace(r#","longitude":4.89"#, ""),
            delivery_json().replace(r#""NL""#, r#""nl""#),
            delivery_json().replace("}", r#","note":"x"}"#),
        ];
        for json in bad {
            assert!(choice(&json).is_err(), "{json}");
        }
    }

    #[test]
    fn in_store_takes_the_store_keys_location() {
        let in_store = choice(r#"{"type":"in_store"}"#).unwrap();
        assert_eq!(in_store.clone().resolve(None), Err(FulfilmentError::InStoreWithoutStore));
        let resolved = in_store.resolve(Some(loc("s1"))).unwrap();
        assert_eq!(resolved, FulfilmentRequest::InStore { location_id: loc("s1") });
        assert_eq!(resolved.kind(), FulfilmentKind::InStore);
        assert_eq!(resolved.location_id(), Some(&loc("s1")));
    }

    #[test]
    fn pickup_and_delivery_ignore_the_store_key() {
        let pickup = choice(r#"{"type":"pickup","location_id":"s2"}"#).unwrap().resolve(Some(loc("s1"))).unwrap();
        assert_eq!(pickup.location_id(), Some(&loc("s2")));
        let delivery = choice(&delivery_json()).unwrap().resolve(None).unwrap();
        assert_eq!(delivery.kind(), FulfilmentKind::Delivery);
        assert_eq!(delivery.location_id(), None);
        assert_eq!(delivery.destination(), Some(Position { latitude: 52.37, longitude: 4.89 }));
    }

    #[test]
    fn a_resolved_request_serializes_flat_and_back() {
        let delivery = choice(&delivery_json()).unwrap().resolve(None).unwrap();
        let v = serde_json::to_value(&delivery).unwrap();
        assert_eq!(v["type"], "delivery");
        assert_eq!(v["latitude"], 52.37);
        assert_eq!(v["address"]["city"], "Amsterdam");
        assert_eq!(serde_json::from_value::<FulfilmentRequest>(v).unwrap(), delivery);
        let in_store = FulfilmentRequest::InStore { location_id: loc("s1") };
        let v = serde_json::to_value(&in_store).unwrap();
        assert_eq!(v, serde_json::json!({"type":"in_store","location_id":"s1"}));
        assert_eq!(serde_json::from_value::<FulfilmentRequest>(v).unwrap(), in_store);
    }
}
