//! Identifiers (SKUs, styles, locations the retailer chooses; carts, orders and
//! customers omniedge issues): opaque strings with a strict alphabet so they are safe
//! in URLs, logs and Durable Object names. `.` and `..` are refused: in a URL path
//! they are dot segments, which no request can name.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be 1 to {max} characters of A-Z, a-z, 0-9, '-', '_' or '.', and not \".\" or \"..\", got {got:?}")]
pub struct InvalidId {
    pub kind: &'static str,
    pub max: usize,
    pub got: String,
}

fn check(kind: &'static str, max: usize, value: &str) -> Result<(), InvalidId> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value != "."
        && value != ".."
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(InvalidId { kind, max, got: value.chars().take(80).collect() })
    }
}

macro_rules! retail_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, InvalidId> {
                check($kind, $max, value).map(|()| Self(value.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                check($kind, $max, &value).map(|()| Self(value))
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

retail_id!(
    /// A stock keeping unit: one sellable variant (style + color + size).
    Sku, "sku", 64
);
retail_id!(
    /// A style groups the size and color variants of one article.
    StyleCode, "style", 64
);
retail_id!(
    /// A store, warehouse or pickup point.
    LocationId, "location_id", 64
);

retail_id!(
    /// A cart, reachable by id from every channel.
    CartId, "cart_id", 64
);
retail_id!(
    /// A placed order.
    OrderId, "order_id", 64
);
retail_id!(
    /// A customer profile shared by every channel.
    CustomerId, "customer_id", 64
);
retail_id!(
    /// A return of (part of) an order.
    ReturnId, "return_id", 64
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_retail_codes() {
        assert_eq!(Sku::parse("RUN-42-BLK").unwrap().as_str(), "RUN-42-BLK");
        assert!(LocationId::parse("store.ams_1").is_ok());
    }

    #[test]
    fn refuses_empty_long_and_unsafe_ids() {
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse(&"A".repeat(65)).is_err());
        assert!(Sku::parse("a/b").is_err());
        assert!(Sku::parse("a b").is_err());
        assert!(Sku::parse(".").is_err());
        assert!(Sku::parse("..").is_err());
        assert!(Sku::parse("...").is_ok());
        let err = LocationId::parse("ü").unwrap_err();
        assert_eq!(err.kind, "location_id");
    }

    #[test]
    fn deserializes_through_validation() {
        assert!(serde_json::from_str::<Sku>("\"OK-1\"").is_ok());
        assert!(serde_json::from_str::<Sku>("\"no good\"").is_err());
    }
}
