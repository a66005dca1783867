//! RFC 9457 problem details: the one shape every error takes, with a stable `code`.
//! Every domain and workflow error (and an object's refusal) is given its HTTP status,
//! code and the extension members a client needs here, in one place; the domain knows
//! nothing of HTTP. `error.rs` logs platform failures and renders a problem as a response.

use crate::objects::cart::CartRefusal;
use crate::objects::stock::StockRefusal;
use omniedge::access::session::SessionError;
use omniedge::access::AccessError;
use omniedge::customers::InvalidContact;
use omniedge::engagement::links::InvalidLink;
use omniedge::engagement::push::InvalidPushSubscription;
use omniedge::inventory::availability::{InvalidLookup, MAX_BATCH};
use omniedge::inventory::ledger::StockError;
use omniedge::pricing::coupon::CouponError;
use omniedge::pricing::{PricingError, MAX_TOTAL};
use omniedge::sales::allocation::AllocationError;
use omniedge::sales::cart::CartError;
use omniedge::sales::fulfilment::FulfilmentError;
use omniedge::sales::order::{allowed_actions, LifecycleError, PaymentError, PaymentMethod};
use omniedge::sales::origin::OriginError;
use omniedge::sales::placement::InvalidOrder;
use omniedge::sales::store_credit::StoreCreditError;
use omniedge::workflows::lifecycle::MoveError;
use omniedge::workflows::placement::PlacementError;
use omniedge::workflows::ports::ClaimRefused;
use omniedge::returns::damaged::WriteOffError;
use omniedge::returns::exchange::ExchangeError;
use omniedge::returns::ReturnError;
use omniedge::workflows::returns::ReturnFlowError;
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
    /// A browser page whose origin the key (or, for a preflight, no live publishable key) allows.
    pub fn origin_not_allowed(origin: &str) -> Self {
        let shown: String = origin.chars().take(100).collect();
        Problem::new(403, "origin_not_allowed", format!("pages from {shown:?} may not call this API with this key"))
    }
    /// Too many writes from one client with one publishable key; `retry_after` seconds.
    pub fn rate_limited(retry_after: u32) -> Self {
        Problem::new(429, "rate_limited", format!("too many changes from this client; retry after {retry_after} s"))
            .with("retry_after", retry_after)
    }
    /// Shopper sessions asked for (or presented) where no signing key is configured.
    pub fn sessions_not_configured() -> Self {
        Problem::new(503, "shopper_sessions_not_configured", "shopper sessions are not configured on this deployment (SHOPPER_SIGNING_KEY)")
    }
    /// Web Push asked for where no VAPID key pair is configured.
    pub fn push_not_configured() -> Self {
        Problem::new(503, "push_not_configured", "Web Push is not configured on this deployment (VAPID_PRIVATE_KEY, VAPID_SUBJECT)")
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
        429 => "Too Many Requests",
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
            AccessError::PublishableNotAllowed => "publishable_key_not_allowed",
            AccessError::CartTokenRequired => "cart_token_required",
            AccessError::CartTokenInvalid => "cart_token_invalid",
            AccessError::ShopperSessionRequired => "shopper_session_required",
            AccessError::OtherShopper => "other_shopper",
        };
        Problem::new(403, code, e.to_string())
    }
}

/// A shopper token that is not accepted: expired ones (the storefront asks its server for
/// a new one) apart from every other reason.
impl From<SessionError> for Problem {
    fn from(e: SessionError) -> Self {
        let code = match e {
            SessionError::Expired => "shopper_token_expired",
            SessionError::Malformed | SessionError::UnknownKey | SessionError::BadSignature | SessionError::WrongAudience { .. } => {
                "invalid_shopper_token"
            }
        };
        Problem::new(401, code, e.to_string())
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

impl From<InvalidPushSubscription> for Problem {
    fn from(e: InvalidPushSubscription) -> Self {
        Problem::unprocessable("invalid_push_subscription", e.to_string())
    }
}

impl From<InvalidLink> for Problem {
    fn from(e: InvalidLink) -> Self {
        Problem::bad_request("invalid_link_token", e.to_string())
    }
}

impl From<CartError> for Problem {
    fn from(e: CartError) -> Self {
        let detail = e.to_string();
        match e {
            CartError::Closed(_) | CartError::OrderedElsewhere { .. } => Problem::conflict("cart_closed", detail),
            CartError::NoSuchLine(sku) => Problem::new(404, "cart_line_not_found", detail).with("sku", sku),
            CartError::TooManyLines { max } => Problem::unprocessable("too_many_lines", detail).with("max", max),
            CartError::TooManyUnits { sku, max } => Problem::unprocessable("too_many_units", detail).with("sku", sku).with("max", max),
            CartError::Unpriced(pricing) => pricing.into(),
        }
    }
}

impl From<CartRefusal> for Problem {
    fn from(refusal: CartRefusal) -> Self {
        match refusal {
            CartRefusal::NoSuchCart(id) => Problem::not_found("cart", id.as_str()),
            CartRefusal::Refused(e) => e.into(),
            CartRefusal::Denied(e) => e.into(),
            CartRefusal::UnknownSku(sku) => Problem::not_found("sku", sku.as_str()),
            CartRefusal::Short { sku, refusal } => Problem::from(refusal).with("sku", &sku),
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

impl From<StockRefusal> for Problem {
    fn from(e: StockRefusal) -> Self {
        match e {
            StockRefusal::Stock(refused) => refused.into(),
            StockRefusal::IdempotencyKeyReused => Problem::unprocessable("idempotency_key_reused", e.to_string()),
        }
    }
}

impl From<ClaimRefused> for Problem {
    fn from(e: ClaimRefused) -> Self {
        let detail = e.to_string();
        match e {
            ClaimRefused::KeyReused => Problem::unprocessable("idempotency_key_reused", detail),
            ClaimRefused::InUse => Problem::conflict("idempotency_key_in_use", detail),
        }
    }
}

impl From<StoreCreditError> for Problem {
    fn from(e: StoreCreditError) -> Self {
        let detail = e.to_string();
        match e {
            StoreCreditError::NoCustomer => Problem::unprocessable("store_credit_needs_customer", detail),
            StoreCreditError::InvalidAmount(_) | StoreCreditError::OtherCurrency { .. } => Problem::unprocessable("invalid_store_credit", detail),
            StoreCreditError::MoreThanTotal { total, .. } => {
                Problem::unprocessable("store_credit_exceeds_total", detail).with("grand_total", total.to_string())
            }
        }
    }
}

/// A placement's refusals; its failures midway (settling, an unavailable store) are a
/// bare 500 (`error.rs` logs them first).
impl From<PlacementError> for Problem {
    fn from(e: PlacementError) -> Self {
        let detail = e.to_string();
        match e {
            PlacementError::Order(e) => e.into(),
            PlacementError::Origin(e) => e.into(),
            PlacementError::Fulfilment(e) => e.into(),
            PlacementError::Payment(e) => e.into(),
            PlacementError::Cart(e) => e.into(),
            PlacementError::Allocation(e) => e.into(),
            PlacementError::Pricing(e) => e.into(),
            PlacementError::Stock(e) => e.into(),
            PlacementError::CartNotFound(id) => Problem::not_found("cart", id.as_str()),
            PlacementError::CouponNotFound(code) => Problem::not_found("coupon", code.as_str()),
            PlacementError::CustomerNotFound(id) => Problem::not_found("customer", id.as_str()),
            PlacementError::CouponUsedUp(code) => Problem::conflict("coupon_used_up", detail).with("coupon", code),
            PlacementError::CartJustOrdered(cart) => Problem::conflict("cart_closed", detail).with("cart_id", cart),
            PlacementError::StoreCredit(e) => e.into(),
            PlacementError::StoreCreditShort(customer) => Problem::conflict("store_credit_insufficient", detail).with("customer_id", customer),
            PlacementError::Claim(e) => e.into(),
            PlacementError::Settle(_) | PlacementError::Unavailable(_) => Problem::internal(),
        }
    }
}

/// An order move's refusals; its failures (settling, an unavailable store) are a bare
/// 500 (`error.rs` logs them first).
impl From<MoveError> for Problem {
    fn from(e: MoveError) -> Self {
        match e {
            MoveError::NotFound(id) => Problem::not_found("order", id.as_str()),
            MoveError::Access(e) => e.into(),
            MoveError::Lifecycle(e) => e.into(),
            MoveError::Changed => Problem::conflict("order_changed", e.to_string()),
            MoveError::Settle(_) | MoveError::Unavailable(_) => Problem::internal(),
        }
    }
}

/// A return step's refusals; its failures (settling, an unavailable store) are a bare
/// 500 (`error.rs` logs them first).
impl From<ReturnFlowError> for Problem {
    fn from(e: ReturnFlowError) -> Self {
        let detail = e.to_string();
        match e {
            ReturnFlowError::NotFound(id) => Problem::not_found("return", id.as_str()),
            ReturnFlowError::OrderNotFound(id) => Problem::not_found("order", id.as_str()),
            ReturnFlowError::LocationNotFound(id) => Problem::not_found("location", id.as_str()),
            ReturnFlowError::Access(e) => e.into(),
            ReturnFlowError::Return(e) => e.into(),
            ReturnFlowError::Exchange(e) => e.into(),
            ReturnFlowError::ReplacementUnavailable { sku, location_id, nearest } => Problem::conflict("replacement_unavailable", detail)
                .with("sku", sku)
                .with("location_id", location_id)
                .with("nearest", nearest),
            ReturnFlowError::HeldElsewhere { held_at } => Problem::conflict("replacement_held_elsewhere", detail).with("location_id", held_at),
            ReturnFlowError::Changed => Problem::conflict("order_changed", detail),
            ReturnFlowError::Claim(e) => e.into(),
            ReturnFlowError::Settle(_) | ReturnFlowError::Unavailable(_) => Problem::internal(),
        }
    }
}

/// Why a return cannot be opened or moved on: each 422 says exactly why, naming the line.
impl From<ReturnError> for Problem {
    fn from(e: ReturnError) -> Self {
        let detail = e.to_string();
        match e {
            ReturnError::NoLines => Problem::unprocessable("invalid_body", detail),
            ReturnError::OrderCancelled => Problem::unprocessable("order_cancelled", detail),
            ReturnError::NotHandedOver { status } => Problem::unprocessable("not_handed_over", detail).with("order_status", status),
            ReturnError::UnknownLine { sku } => Problem::unprocessable("unknown_line", detail).with("sku", sku),
            ReturnError::RepeatedLine { sku } => Problem::unprocessable("repeated_line", detail).with("sku", sku),
            ReturnError::OverReturn { sku, requested, returnable } => {
                Problem::unprocessable("over_return", detail).with("sku", sku).with("requested", requested).with("returnable", returnable)
            }
            ReturnError::WindowClosed { sku, days, closed_at } => {
                Problem::unprocessable("return_window_closed", detail).with("sku", sku).with("days", days).with("closed_at", closed_at)
            }
            ReturnError::InvalidTransition { status, action } => {
                Problem::conflict("invalid_return_transition", detail).with("return_status", status).with("action", action)
            }
            ReturnError::ReceiptMismatch { sku } => Problem::unprocessable("receipt_mismatch", detail).with("sku", sku),
            ReturnError::NoCustomerForCredit => Problem::unprocessable("no_customer_for_store_credit", detail),
        }
    }
}

impl From<WriteOffError> for Problem {
    fn from(e: WriteOffError) -> Self {
        let detail = e.to_string();
        match e {
            WriteOffError::ExceedsDamaged { sku, requested, remaining } => {
                Problem::unprocessable("write_off_exceeds_damaged", detail).with("sku", sku).with("requested", requested).with("remaining", remaining)
            }
        }
    }
}

impl From<ExchangeError> for Problem {
    fn from(e: ExchangeError) -> Self {
        let detail = e.to_string();
        match e {
            ExchangeError::UnknownProduct { sku } => Problem::unprocessable("unknown_sku", detail).with("sku", sku),
            ExchangeError::OtherStyle { replacement, .. } => Problem::unprocessable("replacement_other_style", detail).with("sku", replacement),
            ExchangeError::OtherCurrency { replacement, paid, price, .. } => {
                Problem::unprocessable("replacement_other_currency", detail).with("sku", replacement).with("paid", paid).with("price", price)
            }
        }
    }
}

impl From<InvalidLookup> for Problem {
    fn from(e: InvalidLookup) -> Self {
        match e {
            InvalidLookup::BatchSize(_) => Problem::unprocessable("too_many_skus", e.to_string()).with("max", MAX_BATCH),
            InvalidLookup::RadiusWithoutNear => Problem::unprocessable("invalid_body", e.to_string()),
        }
    }
}

impl From<LifecycleError> for Problem {
    fn from(e: LifecycleError) -> Self {
        let detail = e.to_string();
        match e {
            LifecycleError::InvalidTransition { from, action, fulfilment } => Problem::conflict("invalid_transition", detail)
                .with("from", from)
                .with("action", action)
                .with("fulfilment", fulfilment)
                .with("allowed", allowed_actions(from, fulfilment)),
        }
    }
}

impl From<PaymentError> for Problem {
    fn from(e: PaymentError) -> Self {
        let detail = e.to_string();
        match e {
            PaymentError::NotAllowed { method, fulfilment } => Problem::unprocessable("payment_not_allowed", detail)
                .with("method", method)
                .with("fulfilment", fulfilment)
                .with("allowed", PaymentMethod::allowed_for(fulfilment)),
            PaymentError::InvalidReference => Problem::unprocessable("invalid_body", detail),
        }
    }
}

impl From<FulfilmentError> for Problem {
    fn from(e: FulfilmentError) -> Self {
        match e {
            FulfilmentError::InStoreWithoutStore => Problem::unprocessable("in_store_without_store", e.to_string()),
        }
    }
}

impl From<InvalidOrder> for Problem {
    fn from(e: InvalidOrder) -> Self {
        Problem::unprocessable("invalid_order", e.to_string())
    }
}

impl From<AllocationError> for Problem {
    fn from(e: AllocationError) -> Self {
        let detail = e.to_string();
        match e {
            AllocationError::Short { short } => Problem::conflict("insufficient_stock", detail).with("short_lines", short),
            AllocationError::PickupNotOffered { location_id } => {
                Problem::unprocessable("pickup_not_offered", detail).with("location_id", location_id)
            }
            AllocationError::NotAStore { location_id, kind } => {
                Problem::unprocessable("not_a_store", detail).with("location_id", location_id).with("kind", kind)
            }
            AllocationError::UnknownLocation { location_id } => Problem::not_found("location", location_id.as_str()),
        }
    }
}

impl From<PricingError> for Problem {
    fn from(e: PricingError) -> Self {
        let detail = e.to_string();
        match e {
            PricingError::EmptyBasket => Problem::unprocessable("empty_basket", detail),
            PricingError::UnknownProduct { sku } => Problem::unprocessable("unknown_sku", detail).with("sku", sku),
            PricingError::MixedCurrencies { currencies } => {
                Problem::unprocessable("mixed_currencies", detail).with("currencies", currencies)
            }
            PricingError::OutOfDeliveryRange { distance_km, max_km } => Problem::unprocessable("out_of_delivery_range", detail)
                .with("distance_km", distance_km)
                .with("max_km", max_km),
            PricingError::BasketTooLarge => Problem::unprocessable("basket_too_large", detail).with("max", MAX_TOTAL),
            PricingError::DistanceUnknown => Problem::internal(),
            PricingError::Coupon(coupon) => coupon.into(),
        }
    }
}

impl From<CouponError> for Problem {
    fn from(e: CouponError) -> Self {
        let detail = e.to_string();
        match e {
            CouponError::Expired { code, expired_at } => {
                Problem::unprocessable("coupon_expired", detail).with("coupon", code).with("expired_at", expired_at)
            }
            CouponError::BelowMinimum { code, minimum, .. } => {
                Problem::unprocessable("coupon_below_minimum", detail).with("coupon", code).with("minimum", minimum)
            }
            CouponError::UsedUp { code, max_redemptions } => {
                Problem::conflict("coupon_used_up", detail).with("coupon", code).with("max_redemptions", max_redemptions)
            }
            CouponError::CurrencyMismatch { code, coupon, basket } => Problem::unprocessable("coupon_currency_mismatch", detail)
                .with("coupon", code)
                .with("coupon_currency", coupon)
                .with("basket_currency", basket),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use omniedge::locations::LocationKind;
    use omniedge::pricing::coupon::CouponCode;
    use omniedge::sales::allocation::{LocationAvailable, ShortLine};
    use omniedge::sales::fulfilment::FulfilmentKind::{Delivery, Pickup};
    use omniedge::sales::order::{transition, OrderAction, OrderStatus, PaymentTerms};
    use omniedge::inventory::ledger::OrderRef;
    use omniedge::shared::ids::{CartId, LocationId, OrderId, Sku};
    use omniedge::workflows::ports::Unavailable;
    use omniedge::shared::money::{Currency, Money};
    use serde_json::json;

    fn loc(s: &str) -> LocationId {
        LocationId::parse(s).unwrap()
    }
    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }
    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }
    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }
    fn june(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-06-{day:02}T12:00:00Z")).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn serializes_as_rfc9457_with_extensions() {
        let p: Problem = StockError::BelowHeld { location_id: loc("s1"), held: 3, on_hand_after: 1 }.into();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], 409);
        assert_eq!(v["code"], "below_held");
        assert_eq!(v["type"], "https://omniedge.dev/problems/below-held");
        assert_eq!(v["held"], 3);
        let back: Problem = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn order_lifecycle_and_payment() {
        let p: Problem = transition(OrderStatus::Shipped, OrderAction::Cancel, Delivery).unwrap_err().into();
        assert_eq!((p.status, p.code.as_str()), (409, "invalid_transition"));
        assert_eq!(p.detail, "a delivery order that is shipped cannot be cancelled");
        assert_eq!((&p.extensions["from"], &p.extensions["action"]), (&json!("shipped"), &json!("cancel")));
        assert_eq!(p.extensions["allowed"], json!(["deliver"]));
        let p: Problem = PaymentTerms::new(PaymentMethod::PayOnPickup, None).unwrap().check_fits(Delivery).unwrap_err().into();
        assert_eq!((p.status, p.code.as_str()), (422, "payment_not_allowed"));
        assert_eq!(p.extensions["allowed"], json!(["prepaid", "pay_on_delivery"]));
        let p: Problem = PaymentError::InvalidReference.into();
        assert_eq!((p.status, p.code.as_str()), (422, "invalid_body"));
        let p: Problem = transition(OrderStatus::ReadyForPickup, OrderAction::MarkReady, Pickup).unwrap_err().into();
        assert_eq!(p.extensions["fulfilment"], json!("pickup"));
    }

    #[test]
    fn fulfilment_and_allocation() {
        let p: Problem = FulfilmentError::InStoreWithoutStore.into();
        assert_eq!((p.status, p.code.as_str()), (422, "in_store_without_store"));
        let short = AllocationError::Short {
            short: vec![ShortLine { sku: sku("A"), requested: 2, available_total: 1, available_at: vec![LocationAvailable { location_id: loc("s1"), available: 1 }] }],
        };
        let p: Problem = short.into();
        assert_eq!((p.status, p.code.as_str()), (409, "insufficient_stock"));
        assert_eq!(
            p.extensions["short_lines"],
            json!([{"sku":"A","requested":2,"available_total":1,"available_at":[{"location_id":"s1","available":1}]}])
        );
        let p: Problem = AllocationError::PickupNotOffered { location_id: loc("w1") }.into();
        assert_eq!((p.status, p.code.as_str(), &p.extensions["location_id"]), (422, "pickup_not_offered", &json!("w1")));
        let p: Problem = AllocationError::NotAStore { location_id: loc("w1"), kind: LocationKind::Warehouse }.into();
        assert_eq!((p.status, p.code.as_str(), &p.extensions["kind"]), (422, "not_a_store", &json!("warehouse")));
        let p: Problem = AllocationError::UnknownLocation { location_id: loc("x") }.into();
        assert_eq!((p.status, p.code.as_str(), p.detail.as_str()), (404, "location_not_found", "no location \"x\""));
    }

    #[test]
    fn pricing() {
        let p: Problem = PricingError::MixedCurrencies { currencies: vec![currency("EUR"), currency("USD")] }.into();
        assert_eq!((p.status, p.code.as_str()), (422, "mixed_currencies"));
        assert_eq!(p.extensions["currencies"], json!(["EUR", "USD"]));
        assert!(p.detail.contains("EUR, USD"));
        let p: Problem = PricingError::UnknownProduct { sku: sku("X") }.into();
        assert_eq!((p.status, p.code.as_str(), &p.extensions["sku"]), (422, "unknown_sku", &json!("X")));
        let p: Problem = PricingError::EmptyBasket.into();
        assert_eq!(p.code, "empty_basket");
        let p: Problem = PricingError::DistanceUnknown.into();
        assert_eq!((p.status, p.code.as_str()), (500, "internal_error"));
        let p: Problem = PricingError::OutOfDeliveryRange { distance_km: 900.0, max_km: "5".parse().unwrap() }.into();
        assert_eq!((p.status, p.code.as_str()), (422, "out_of_delivery_range"));
        assert_eq!(p.extensions["distance_km"], 900.0);
        assert_eq!(p.extensions["max_km"], "5");
        let p: Problem = PricingError::BasketTooLarge.into();
        assert_eq!((p.code.as_str(), &p.extensions["max"]), ("basket_too_large", &json!(MAX_TOTAL)));
        let mismatch = CouponError::CurrencyMismatch { code: CouponCode::parse("ABC").unwrap(), coupon: currency("EUR"), basket: currency("JPY") };
        let p: Problem = PricingError::Coupon(mismatch).into();
        assert_eq!(p.code, "coupon_currency_mismatch");
    }

    #[test]
    fn coupons() {
        let code = CouponCode::parse("X-1-Y").unwrap();
        let cases: Vec<(CouponError, u16, &str)> = vec![
            (CouponError::Expired { code: code.clone(), expired_at: june(1) }, 422, "coupon_expired"),
            (CouponError::BelowMinimum { code: code.clone(), minimum: eur("50"), subtotal: eur("10") }, 422, "coupon_below_minimum"),
            (CouponError::UsedUp { code: code.clone(), max_redemptions: 1 }, 409, "coupon_used_up"),
            (CouponError::CurrencyMismatch { code, coupon: currency("EUR"), basket: currency("USD") }, 422, "coupon_currency_mismatch"),
        ];
        for (e, status, code) in cases {
            let p: Problem = e.into();
            assert_eq!((p.status, p.code.as_str()), (status, code));
            assert_eq!(p.extensions["coupon"], "X-1-Y");
        }
        let p: Problem = CouponError::BelowMinimum { code: CouponCode::parse("ABC").unwrap(), minimum: eur("50"), subtotal: eur("10") }.into();
        assert_eq!(p.extensions["minimum"], json!({"amount":"50","currency":"EUR"}));
    }

    #[test]
    fn carts_and_their_refusals() {
        let cart = CartId::parse("cart_1").unwrap();
        let p: Problem = CartRefusal::NoSuchCart(cart.clone()).into();
        assert_eq!((p.status, p.code.as_str(), p.detail.as_str()), (404, "cart_not_found", "no cart \"cart_1\""));
        let p: Problem = CartRefusal::Refused(CartError::Closed(cart)).into();
        assert_eq!((p.status, p.code.as_str()), (409, "cart_closed"));
        let p: Problem = CartError::NoSuchLine(sku("A")).into();
        assert_eq!((p.status, p.code.as_str(), &p.extensions["sku"]), (404, "cart_line_not_found", &json!("A")));
        let p: Problem = CartError::TooManyLines { max: 100 }.into();
        assert_eq!((p.status, p.code.as_str()), (422, "too_many_lines"));
        let unpriced = CartError::Unpriced(PricingError::MixedCurrencies { currencies: vec![currency("EUR"), currency("USD")] });
        let p: Problem = unpriced.into();
        assert_eq!((p.status, p.code.as_str()), (422, "mixed_currencies"));
        assert_eq!(p.detail, "one order is priced in one currency; the lines are in EUR, USD");
    }

    #[test]
    fn placements_and_order_moves() {
        let order = OrderId::parse("ord_1").unwrap();
        let cases: Vec<(PlacementError, u16, &str)> = vec![
            (PlacementError::CartNotFound(CartId::parse("cart_1").unwrap()), 404, "cart_not_found"),
            (PlacementError::CouponNotFound(CouponCode::parse("ABC").unwrap()), 404, "coupon_not_found"),
            (PlacementError::CouponUsedUp(Some(CouponCode::parse("ABC").unwrap())), 409, "coupon_used_up"),
            (PlacementError::CartJustOrdered(Some(CartId::parse("cart_1").unwrap())), 409, "cart_closed"),
            (PlacementError::Claim(ClaimRefused::KeyReused), 422, "idempotency_key_reused"),
            (PlacementError::Claim(ClaimRefused::InUse), 409, "idempotency_key_in_use"),
            (PlacementError::Stock(StockError::Shortage { short: vec![] }), 409, "insufficient_stock"),
            (PlacementError::Unavailable(Unavailable("d1".into())), 500, "internal_error"),
        ];
        for (e, status, code) in cases {
            let p: Problem = e.into();
            assert_eq!((p.status, p.code.as_str()), (status, code));
        }
        let p: Problem = PlacementError::CouponUsedUp(Some(CouponCode::parse("ABC").unwrap())).into();
        assert_eq!((p.detail.as_str(), &p.extensions["coupon"]), ("the coupon has no redemptions left", &json!("ABC")));
        let p: Problem = MoveError::NotFound(order.clone()).into();
        assert_eq!((p.status, p.code.as_str(), p.detail.as_str()), (404, "order_not_found", "no order \"ord_1\""));
        let p: Problem = MoveError::Changed.into();
        assert_eq!((p.status, p.code.as_str()), (409, "order_changed"));
        let p: Problem = MoveError::Access(AccessError::NotFulfilledBy { order, location: loc("s1") }).into();
        assert_eq!((p.status, p.code.as_str()), (403, "other_location"));
        let p: Problem = StockRefusal::IdempotencyKeyReused.into();
        assert_eq!((p.status, p.code.as_str()), (422, "idempotency_key_reused"));
        let p: Problem = StockRefusal::Stock(StockError::HandedOver { order: OrderRef("order:ord_1".into()) }).into();
        assert_eq!((p.status, p.code.as_str()), (409, "handed_over"));
    }

    #[test]
    fn returns_say_exactly_why_not() {
        use omniedge::returns::ReturnStatus;
        use omniedge::shared::ids::ReturnId;
        let sku = Sku::parse("A").unwrap();
        let cases: Vec<(ReturnFlowError, u16, &str)> = vec![
            (ReturnFlowError::NotFound(ReturnId::parse("ret_1").unwrap()), 404, "return_not_found"),
            (ReturnFlowError::LocationNotFound(LocationId::parse("s9").unwrap()), 404, "location_not_found"),
            (ReturnError::OrderCancelled.into(), 422, "order_cancelled"),
            (ReturnError::OverReturn { sku: sku.clone(), requested: 2, returnable: 1 }.into(), 422, "over_return"),
            (ReturnError::InvalidTransition { status: ReturnStatus::Received, action: "received" }.into(), 409, "invalid_return_transition"),
            (ExchangeError::UnknownProduct { sku: sku.clone() }.into(), 422, "unknown_sku"),
            (ReturnFlowError::ReplacementUnavailable { sku: sku.clone(), location_id: LocationId::parse("s1").unwrap(), nearest: vec![] }, 409, "replacement_unavailable"),
            (ReturnFlowError::Changed, 409, "order_changed"),
            (ReturnFlowError::Unavailable(Unavailable("d1".into())), 500, "internal_error"),
        ];
        for (e, status, code) in cases {
            let p: Problem = e.into();
            assert_eq!((p.status, p.code.as_str()), (status, code));
        }
        let p: Problem = ReturnFlowError::from(ReturnError::OverReturn { sku: sku.clone(), requested: 2, returnable: 1 }).into();
        assert_eq!((&p.extensions["requested"], &p.extensions["returnable"]), (&json!(2), &json!(1)));
        let eur = |amount: &str| Money { amount: amount.parse().unwrap(), currency: Currency::parse("EUR").unwrap() };
        let p: Problem = ExchangeError::OtherCurrency { sku: sku.clone(), replacement: sku.clone(), paid: eur("1.00"), price: eur("1.00") }.into();
        assert_eq!((p.status, p.code.as_str()), (422, "replacement_other_currency"));
        let p: Problem = WriteOffError::ExceedsDamaged { sku, requested: 3, remaining: 2 }.into();
        assert_eq!((p.status, p.code.as_str(), &p.extensions["remaining"]), (422, "write_off_exceeds_damaged", &json!(2)));
    }

    #[test]
    fn browser_access() {
        let cases: Vec<(AccessError, &str)> = vec![
            (AccessError::PublishableNotAllowed, "publishable_key_not_allowed"),
            (AccessError::CartTokenRequired, "cart_token_required"),
            (AccessError::CartTokenInvalid, "cart_token_invalid"),
            (AccessError::ShopperSessionRequired, "shopper_session_required"),
            (AccessError::OtherShopper, "other_shopper"),
        ];
        for (e, code) in cases {
            let p: Problem = e.into();
            assert_eq!((p.status, p.code.as_str()), (403, code));
        }
        let p: Problem = SessionError::Expired.into();
        assert_eq!((p.status, p.code.as_str()), (401, "shopper_token_expired"));
        let p: Problem = SessionError::BadSignature.into();
        assert_eq!((p.status, p.code.as_str()), (401, "invalid_shopper_token"));
        let p = Problem::rate_limited(60);
        assert_eq!((p.status, p.code.as_str(), p.title.as_str(), &p.extensions["retry_after"]), (429, "rate_limited", "Too Many Requests", &json!(60)));
        assert_eq!(Problem::origin_not_allowed("https://evil.example").status, 403);
        assert_eq!(Problem::sessions_not_configured().status, 503);
    }

    #[test]
    fn reminders() {
        let p: Problem = InvalidPushSubscription::Endpoint.into();
        assert_eq!((p.status, p.code.as_str()), (422, "invalid_push_subscription"));
        let p: Problem = InvalidLink.into();
        assert_eq!((p.status, p.code.as_str()), (400, "invalid_link_token"));
        assert_eq!(Problem::push_not_configured().code, "push_not_configured");
    }

    #[test]
    fn access_and_lookups() {
        let p: Problem = AccessError::AdminOnly.into();
        assert_eq!((p.status, p.code.as_str(), p.title.as_str()), (403, "admin_only", "Forbidden"));
        let p: Problem = AccessError::StorefrontCannotMoveOrders.into();
        assert_eq!((p.status, p.code.as_str()), (403, "admin_only"));
        let p: Problem = InvalidLookup::BatchSize(101).into();
        assert_eq!((p.status, p.code.as_str(), &p.extensions["max"]), (422, "too_many_skus", &json!(MAX_BATCH)));
        let p: Problem = StockError::Shortage { short: vec![] }.into();
        assert_eq!((p.status, p.code.as_str(), &p.extensions["short"]), (409, "insufficient_stock", &json!([])));
    }
}
