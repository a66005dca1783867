//! Who may do what: API keys, their roles, and the checks each capability asks for.
//! Secret keys (admin, store, storefront) live on servers; publishable keys ship in web
//! pages and apps, bound to a channel and the web origins allowed to use them, and reach
//! a guest cart only with its capability token (`cart_token`) and a shopper's own data
//! only with a signed shopper session (`session`). Keys are only ever stored as SHA-256
//! hashes.

pub mod cart_token;
pub mod origin;
pub mod session;

use crate::shared::channel::Channel;
use crate::shared::ids::{CustomerId, LocationId, OrderId};
use origin::WebOrigin;
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
    /// A storefront's server (web, app, call centre, ...): public reads and its shoppers' carts.
    Storefront { key_id: String, channel: Channel },
    /// A publishable key in a shopper's browser or app: public reads, carts it holds the
    /// token of, and with a shopper session (`shopper`) that shopper's own data.
    Publishable { key_id: String, channel: Channel, shopper: Option<CustomerId> },
}

/// The ways a call is refused for its caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "refused", rename_all = "snake_case")]
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
    #[error("publishable keys cannot make this call: use a secret key from your server")]
    PublishableNotAllowed,
    #[error("this cart needs its cart token: send it as X-Cart-Token")]
    CartTokenRequired,
    #[error("the X-Cart-Token is not this cart's token")]
    CartTokenInvalid,
    #[error("this needs the shopper's session: send a shopper token as X-Shopper-Token")]
    ShopperSessionRequired,
    #[error("this belongs to another shopper")]
    OtherShopper,
}

impl Principal {
    pub fn key_id(&self) -> &str {
        match self {
            Principal::Admin { key_id }
            | Principal::Store { key_id, .. }
            | Principal::Storefront { key_id, .. }
            | Principal::Publishable { key_id, .. } => key_id,
        }
    }

    /// Calls only a server may make (back-office, stores, storefront servers).
    pub fn require_secret(&self) -> Result<(), AccessError> {
        match self {
            Principal::Publishable { .. } => Err(AccessError::PublishableNotAllowed),
            _ => Ok(()),
        }
    }

    /// A customer's profile, consents, timeline and orders: every secret key may read
    /// them (stores only read profiles); a publishable key only its own shopper's.
    pub fn may_read_customer(&self, customer: &CustomerId) -> Result<(), AccessError> {
        match self {
            Principal::Publishable { shopper: Some(own), .. } if own == customer => Ok(()),
            Principal::Publishable { shopper: Some(_), .. } => Err(AccessError::OtherShopper),
            Principal::Publishable { shopper: None, .. } => Err(AccessError::ShopperSessionRequired),
            _ => Ok(()),
        }
    }

    /// An order: any secret key may read it; a shopper session only the shopper's own.
    pub fn may_read_order(&self, customer: Option<&CustomerId>) -> Result<(), AccessError> {
        match (self, customer) {
            (Principal::Publishable { .. }, Some(customer)) => self.may_read_customer(customer),
            (Principal::Publishable { shopper: Some(_), .. }, None) => Err(AccessError::OtherShopper),
            (Principal::Publishable { shopper: None, .. }, None) => Err(AccessError::ShopperSessionRequired),
            _ => Ok(()),
        }
    }

    /// The customer a cart is for when a caller creates or claims it: a shopper session
    /// attaches its own shopper (and no other); a publishable key without one attaches
    /// nobody; secret keys attach whom they name.
    pub fn cart_customer(&self, asked: Option<CustomerId>) -> Result<Option<CustomerId>, AccessError> {
        match (self, asked) {
            (Principal::Publishable { shopper: Some(own), .. }, Some(asked)) if *own != asked => Err(AccessError::OtherShopper),
            (Principal::Publishable { shopper: Some(own), .. }, _) => Ok(Some(own.clone())),
            (Principal::Publishable { shopper: None, .. }, Some(_)) => Err(AccessError::ShopperSessionRequired),
            (_, asked) => Ok(asked),
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
            Principal::Publishable { .. } => Err(AccessError::PublishableNotAllowed),
        }
    }

    /// A store's click & collect list: back-office, or that store's own key.
    pub fn may_see_pickups_at(&self, location: &LocationId) -> Result<(), AccessError> {
        match self {
            Principal::Storefront { .. } => Err(AccessError::AdminOnly),
            _ => self.may_adjust_stock_at(location),
        }
    }

    /// Opening or cancelling a return of an order to be received at `at`: back-office and
    /// storefront servers for any order, a store only at its own location, a shopper
    /// session only for the shopper's own orders.
    pub fn may_ask_return(&self, customer: Option<&CustomerId>, at: &LocationId) -> Result<(), AccessError> {
        match self {
            Principal::Store { .. } => self.may_adjust_stock_at(at),
            Principal::Publishable { .. } => self.may_read_order(customer),
            Principal::Admin { .. } | Principal::Storefront { .. } => Ok(()),
        }
    }

    /// Receiving, rejecting and refunding returns at `at`: back-office (warehouses), or
    /// that store's own key.
    pub fn may_handle_returns_at(&self, at: &LocationId) -> Result<(), AccessError> {
        self.may_see_pickups_at(at)
    }

    /// Orders are moved on by back-office, or by the store key of a location that fulfils them.
    pub fn may_move_order(&self, order: &OrderId, fulfilled_by: &[LocationId]) -> Result<(), AccessError> {
        match self {
            Principal::Admin { .. } => Ok(()),
            Principal::Store { location_id, .. } if fulfilled_by.contains(location_id) => Ok(()),
            Principal::Store { location_id, .. } => Err(AccessError::NotFulfilledBy { order: order.clone(), location: location_id.clone() }),
            Principal::Storefront { .. } => Err(AccessError::StorefrontCannotMoveOrders),
            Principal::Publishable { .. } => Err(AccessError::PublishableNotAllowed),
        }
    }

    /// Creating profiles and issuing shopper sessions: back-office and storefront servers.
    pub fn may_maintain_customers(&self) -> Result<(), AccessError> {
        match self {
            Principal::Store { .. } => Err(AccessError::CustomersNotForStores),
            Principal::Publishable { .. } => Err(AccessError::PublishableNotAllowed),
            _ => Ok(()),
        }
    }

    /// Changing one profile (and its consents): as creating, or the shopper themself.
    pub fn may_change_customer(&self, customer: &CustomerId) -> Result<(), AccessError> {
        match self {
            Principal::Publishable { .. } => self.may_read_customer(customer),
            _ => self.may_maintain_customers(),
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
            (Principal::Publishable { .. }, _) => Err(AccessError::PublishableNotAllowed),
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
    /// A key for web pages and apps: its channel and the origins whose pages may use it.
    Publishable {
        #[serde(deserialize_with = "crate::shared::text::line")]
        label: String,
        #[serde(deserialize_with = "storefront_channel")]
        channel: Channel,
        #[serde(deserialize_with = "origin::allowed_origins")]
        allowed_origins: Vec<WebOrigin>,
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
/// The prefix of publishable keys (after `KEY_PREFIX`): safe in a page, and known as such.
pub const PUBLISHABLE_PREFIX: &str = "oe_pub_";

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
        let publishable = r#"{"role":"publishable","label":"x","channel":"web","allowed_origins":["https://Shop.example"]}"#;
        assert!(serde_json::from_str::<KeyGrant>(publishable).is_ok());
        assert!(serde_json::from_str::<KeyGrant>(r#"{"role":"publishable","label":"x","channel":"web","allowed_origins":[]}"#).is_err());
        assert!(serde_json::from_str::<KeyGrant>(r#"{"role":"publishable","label":"x","channel":"web"}"#).is_err());
    }

    fn cus(s: &str) -> CustomerId {
        CustomerId::parse(s).unwrap()
    }

    #[test]
    fn publishable_keys_reach_only_their_shoppers_data() {
        let guest = Principal::Publishable { key_id: "p".into(), channel: Channel::Web, shopper: None };
        let ann = Principal::Publishable { key_id: "p".into(), channel: Channel::Web, shopper: Some(cus("ann")) };
        let server = Principal::Storefront { key_id: "s".into(), channel: Channel::Web };
        assert_eq!(guest.may_read_customer(&cus("ann")), Err(AccessError::ShopperSessionRequired));
        assert!(ann.may_read_customer(&cus("ann")).is_ok());
        assert_eq!(ann.may_read_customer(&cus("bob")), Err(AccessError::OtherShopper));
        assert!(server.may_read_customer(&cus("bob")).is_ok());
        assert_eq!(ann.may_read_order(None), Err(AccessError::OtherShopper));
        assert_eq!(guest.may_read_order(None), Err(AccessError::ShopperSessionRequired));
        assert!(server.may_read_order(None).is_ok());
        assert!(ann.may_change_customer(&cus("ann")).is_ok());
        assert_eq!(guest.may_maintain_customers(), Err(AccessError::PublishableNotAllowed));
        assert_eq!(ann.cart_customer(None), Ok(Some(cus("ann"))));
        assert_eq!(ann.cart_customer(Some(cus("bob"))), Err(AccessError::OtherShopper));
        assert_eq!(guest.cart_customer(Some(cus("ann"))), Err(AccessError::ShopperSessionRequired));
        assert_eq!(guest.cart_customer(None), Ok(None));
        assert_eq!(server.cart_customer(Some(cus("bob"))), Ok(Some(cus("bob"))));
        assert_eq!(guest.require_secret(), Err(AccessError::PublishableNotAllowed));
        assert_eq!(guest.may_adjust_stock_at(&loc("s1")), Err(AccessError::PublishableNotAllowed));
        assert_eq!(server.may_see_pickups_at(&loc("s1")), Err(AccessError::AdminOnly));
        let pos = Principal::Store { key_id: "k".into(), location_id: loc("s1") };
        assert!(pos.may_see_pickups_at(&loc("s1")).is_ok());
        assert!(matches!(pos.may_see_pickups_at(&loc("s2")), Err(AccessError::OtherLocation { .. })));
    }
}
