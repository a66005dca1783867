//! Who may do what: API keys, their roles, and the checks each capability asks for.
//! Keys are only ever stored as SHA-256 hashes.

use crate::shared::channel::Channel;
use crate::shared::ids::{LocationId, OrderId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What an authenticated caller is. Each role carries exactly what binds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Principal {
    /// Back-office and automation: everything.
    Admin { key_id: String },
    /// A store's POS or associate device: bound to one location.
    Store { key_id: String, location_id: LocationId },
    /// A storefront (web, app, call centre, ...): public reads and its shoppers' carts.
    Storefront { key_id: String, channel: Channel },
}

/// The ways a call is refused for its caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("this call needs a back-office key")]
    AdminOnly,
    #[error("this key is bound to location {bound}, not {asked}")]
    OtherLocation { bound: LocationId, asked: LocationId },
    #[error("storefront keys cannot change stock")]
    StorefrontCannotWrite,
    #[error("customer profiles are maintained by back-office and storefront keys")]
    CustomersNotForStores,
    #[error("this key speaks for channel {bound:?}, not {asked:?}")]
    OtherChannel { bound: Channel, asked: Channel },
    #[error("order {order} is not fulfilled by {location}")]
    NotFulfilledBy { order: OrderId, location: LocationId },
    #[error("storefront keys cannot move orders on")]
    StorefrontCannotMoveOrders,
}

impl Principal {
    pub fn key_id(&self) -> &str {
        match self {
            Principal::Admin { key_id } | Principal::Store { key_id, .. } | Principal::Storefront { key_id, .. } => key_id,
        }
    }

    pub fn require_admin(&self) -> Result<(), AccessError> {
        match self {
            Principal::Admin { .. } => Ok(()),
            _ => Err(AccessError::AdminOnly),
        }
    }

    /// Stock at a location may be changed by back-office, or by that location's own store key.
    pub fn may_adjust_stock_at(&self, location: &LocationId) -> Result<(), AccessError> {
        match self {
            Principal::Admin { .. } => Ok(()),
            Principal::Store { location_id, .. } if location_id == location => Ok(()),
            Principal::Store { location_id, .. } => {
                Err(AccessError::OtherLocation { bound: location_id.clone(), asked: location.clone() })
            }
            Principal::Storefront { .. } => Err(AccessError::StorefrontCannotWrite),
        }
    }

    /// Orders are moved on by back-office, or by the store key of a location that fulfils them.
    pub fn may_move_order(&self, order: &OrderId, fulfilled_by: &[LocationId]) -> Result<(), AccessError> {
        match self {
            Principal::Admin { .. } => Ok(()),
            Principal::Store { location_id, .. } if fulfilled_by.contains(location_id) => Ok(()),
            Principal::Store { location_id, .. } => Err(AccessError::NotFulfilledBy { order: order.clone(), location: location_id.clone() }),
            Principal::Storefront { .. } => Err(AccessError::StorefrontCannotMoveOrders),
        }
    }

    pub fn may_maintain_customers(&self) -> Result<(), AccessError> {
        match self {
            Principal::Store { .. } => Err(AccessError::CustomersNotForStores),
            _ => Ok(()),
        }
    }

    /// Which adjustments a caller may list: everything for back-office, only its own
    /// location for a store key (asking for another is refused), nothing for storefronts.
    pub fn adjustment_scope(&self, asked: Option<LocationId>) -> Result<Option<LocationId>, AccessError> {
        match (self, asked) {
            (Principal::Admin { .. }, asked) => Ok(asked),
            (Principal::Store { location_id, .. }, None) => Ok(Some(location_id.clone())),
            (Principal::Store { .. }, Some(asked)) => self.may_adjust_stock_at(&asked).map(|()| Some(asked)),
            (Principal::Storefront { .. }, _) => Err(AccessError::AdminOnly),
        }
    }
}

/// What an admin asks for when issuing a key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeyGrant {
    Admin {
        #[serde(deserialize_with = "crate::shared::text::line")]
        label: String,
    },
    Store {
        #[serde(deserialize_with = "crate::shared::text::line")]
        label: String,
        location_id: LocationId,
    },
    Storefront {
        #[serde(deserialize_with = "crate::shared::text::line")]
        label: String,
        #[serde(deserialize_with = "storefront_channel")]
        channel: Channel,
    },
}

/// A storefront speaks for a remote channel; in-store selling uses store keys.
fn storefront_channel<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Channel, D::Error> {
    match Channel::deserialize(d)? {
        Channel::Store => Err(serde::de::Error::custom("storefront keys cannot use channel \"store\": issue a store key")),
        channel => Ok(channel),
    }
}

/// The prefix of every key omniedge issues, so a leaked one is recognisable in a scan.
pub const KEY_PREFIX: &str = "oe_";

/// The hash under which a key is stored and looked up.
pub fn key_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets without an early exit on the first differing byte.
pub fn secrets_match(a: &str, b: &str) -> bool {
    let (ha, hb) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    ha.iter().zip(hb.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads the secret from `Authorization: Bearer <key>`.
pub fn bearer_secret(authorization: &str) -> Option<&str> {
    let (scheme, secret) = authorization.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty()).then(|| secret.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(s: &str) -> LocationId {
        LocationId::parse(s).unwrap()
    }

    #[test]
    fn store_keys_only_touch_their_own_location() {
        let p = Principal::Store { key_id: "k".into(), location_id: loc("s1") };
        assert!(p.may_adjust_stock_at(&loc("s1")).is_ok());
        assert!(matches!(p.may_adjust_stock_at(&loc("s2")), Err(AccessError::OtherLocation { .. })));
        assert!(p.require_admin().is_err());
        let web = Principal::Storefront { key_id: "k".into(), channel: Channel::Web };
        assert!(web.may_adjust_stock_at(&loc("s1")).is_err());
        assert!(Principal::Admin { key_id: "a".into() }.may_adjust_stock_at(&loc("s9")).is_ok());
    }

    #[test]
    fn hashes_and_headers() {
        assert_eq!(key_hash("abc").len(), 64);
        assert_ne!(key_hash("abc"), key_hash("abd"));
        assert!(secrets_match("x", "x") && !secrets_match("x", "y"));
        assert_eq!(bearer_secret("Bearer oe_123"), Some("oe_123"));
        assert_eq!(bearer_secret("bearer  oe_1 "), Some("oe_1"));
        assert_eq!(bearer_secret("Basic abc"), None);
        assert_eq!(bearer_secret("Bearer "), None);
    }

    #[test]
    fn grants_need_their_binding() {
        assert!(serde_json::from_str::<KeyGrant>(r#"{"role":"store","label":"x"}"#).is_err());
        assert!(serde_json::from_str::<KeyGrant>(r#"{"role":"storefront","label":"x","channel":"web"}"#).is_ok());
        assert!(serde_json::from_str::<KeyGrant>(r#"{"role":"storefront","label":"x","channel":"fax"}"#).is_err());
        assert!(serde_json::from_str::<KeyGrant>(r#"{"role":"storefront","label":"x","channel":"store"}"#).is_err());
    }
}
