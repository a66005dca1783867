//! RFC 9457 problem details: the one shape every error takes, with a stable `code`.
//! Every domain error is mapped to its status and code here, in one place.

use crate::access::AccessError;
use crate::inventory::availability::InvalidLookup;
use crate::sales::cart::CartError;
use crate::sales::origin::OriginError;
use crate::customers::InvalidContact;
use crate::inventory::ledger::StockError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    pub detail: String,
    /// Extra members that tell a client what to fix (e.g. `short_lines`, `allow`).
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl Problem {
    pub fn new(status: u16, code: &str, detail: impl Into<String>) -> Self {
        Problem {
            type_uri: format!("https://omniedge.dev/problems/{}", code.replace('_', "-")),
            title: title_for(status).to_owned(),
            status,
            code: code.to_owned(),
            detail: detail.into(),
            extensions: Map::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        self.extensions.insert(key.to_owned(), serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Problem::new(400, code, detail)
    }
    pub fn unprocessable(code: &str, detail: impl Into<String>) -> Self {
        Problem::new(422, code, detail)
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        Problem::new(404, &format!("{what}_not_found"), format!("no {} {id:?}", what.replace('_', " ")))
    }
    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Problem::new(409, code, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(401, "unauthorized", detail)
    }
    pub fn internal() -> Self {
        Problem::new(500, "internal_error", "something went wrong on our side; the request may be retried with the same Idempotency-Key")
    }
}

fn title_for(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        428 => "Precondition Required",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

impl From<AccessError> for Problem {
    fn from(e: AccessError) -> Self {
        let code = match e {
            AccessError::AdminOnly | AccessError::StorefrontCannotMoveOrders => "admin_only",
            AccessError::OtherLocation { .. } | AccessError::NotFulfilledBy { .. } => "other_location",
            AccessError::StorefrontCannotWrite => "storefront_cannot_write",
            AccessError::OtherChannel { .. } => "other_channel",
            AccessError::CustomersNotForStores => "customers_not_for_stores",
        };
        Problem::new(403, code, e.to_string())
    }
}

impl From<OriginError> for Problem {
    fn from(e: OriginError) -> Self {
        match e {
            OriginError::Access(a) => a.into(),
            other => Problem::unprocessable("invalid_channel", other.to_string()),
        }
    }
}

impl From<InvalidContact> for Problem {
    fn from(e: InvalidContact) -> Self {
        Problem::unprocessable("invalid_body", e.to_string())
    }
}

impl From<CartError> for Problem {
    fn from(e: CartError) -> Self {
        let detail = e.to_string();
        match e {
            CartError::Closed(_) | CartError::OrderedElsewhere { .. } => Problem::conflict("cart_closed", detail),
            CartError::NoSuchLine(sku) => Problem::new(404, "cart_line_not_found", detail).with("sku", sku),
            CartError::TooManyLines => Problem::unprocessable("too_many_lines", detail),
        }
    }
}

impl From<StockError> for Problem {
    fn from(e: StockError) -> Self {
        let detail = e.to_string();
        match e {
            StockError::BelowHeld { location_id, held, on_hand_after } => Problem::conflict("below_held", detail)
                .with("location_id", location_id)
                .with("held", held)
                .with("on_hand_after", on_hand_after),
            StockError::AboveLimit { location_id, max, .. } => {
                Problem::unprocessable("above_limit", detail).with("location_id", location_id).with("max", max)
            }
            StockError::Shortage { short } => Problem::conflict("insufficient_stock", detail).with("short", short),
            StockError::NotCommitted { .. } => Problem::conflict("not_committed", detail),
            StockError::HandedOver { .. } => Problem::conflict("handed_over", detail),
        }
    }
}

impl From<InvalidLookup> for Problem {
    fn from(e: InvalidLookup) -> Self {
        match e {
            InvalidLookup::BatchSize(_) => Problem::unprocessable("too_many_skus", e.to_string()).with("max", crate::inventory::availability::MAX_BATCH),
            InvalidLookup::RadiusWithoutNear => Problem::unprocessable("invalid_body", e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::ids::LocationId;

    #[test]
    fn serializes_as_rfc9457_with_extensions() {
        let p: Problem = StockError::BelowHeld { location_id: LocationId::parse("s1").unwrap(), held: 3, on_hand_after: 1 }.into();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], 409);
        assert_eq!(v["code"], "below_held");
        assert_eq!(v["type"], "https://omniedge.dev/problems/below-held");
        assert_eq!(v["held"], 3);
        let back: Problem = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }
}
