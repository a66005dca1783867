//! Placing an order: what a channel sends (`OrderDraft`) and the order it becomes
//! (`Order`): priced lines, where each is fulfilled from, payment terms, totals and
//! the status history. The steps that touch stock and D1 are `workflows::placement`;
//! the rules they apply (allocation, pricing, coupons, lifecycle) have their own modules.

use crate::sales::allocation::AllocatedLine;
use crate::shared::channel::Channel;
use crate::sales::origin::SalesOrigin;
use crate::pricing::coupon::CouponCode;
use crate::customers::Contact;
use crate::sales::fulfilment::{FulfilmentChoice, FulfilmentRequest};
use crate::shared::ids::{CartId, CustomerId, LocationId, OrderId, Sku};
use crate::sales::order::{OrderStatus, PaymentTerms};
use crate::pricing::{OrderTotals, PricedLine};
use crate::sales::store_credit::CreditApplied;
use crate::shared::money::Money;
use crate::shared::quantity::PositiveQuantity;
use crate::inventory::ledger::{HoldRef, OrderRef};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most lines one order may carry.
pub const MAX_ORDER_LINES: usize = 100;

/// One line of a direct order (POS, call centre): a SKU and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineDraft {
    pub sku: Sku,
    pub quantity: PositiveQuantity,
}

/// The body of `POST /v1/orders`: from a cart, or directly from lines.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderDraft {
    #[serde(default)]
    pub cart_id: Option<CartId>,
    #[serde(default)]
    pub lines: Option<Vec<LineDraft>>,
    /// For back-office keys placing direct orders: the channel (and store) it is for.
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub location_id: Option<LocationId>,
    #[serde(default)]
    pub customer_id: Option<CustomerId>,
    #[serde(default)]
    pub contact: Option<Contact>,
    pub fulfilment: FulfilmentChoice,
    pub payment: PaymentTerms,
    #[serde(default)]
    pub coupon_code: Option<CouponCode>,
    /// The named customer's store credit to spend on this order.
    #[serde(default)]
    pub store_credit: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOrder {
    #[error("send either cart_id or lines, not both")]
    CartAndLines,
    #[error("send cart_id or lines")]
    NoBasket,
    #[error("an order has 1 to {MAX_ORDER_LINES} lines")]
    LineCount,
    #[error("sku {0} appears on two lines; send one line per SKU")]
    DuplicateSku(Sku),
    #[error("channel and location_id are taken from the cart when ordering a cart")]
    ChannelWithCart,
}

/// Where the basket of an order comes from.
pub enum BasketSource {
    Cart(CartId),
    Lines(Vec<(Sku, PositiveQuantity)>),
}

impl OrderDraft {
    pub fn basket(&self) -> Result<BasketSource, InvalidOrder> {
        match (&self.cart_id, &self.lines) {
            (Some(_), Some(_)) => Err(InvalidOrder::CartAndLines),
            (None, None) => Err(InvalidOrder::NoBasket),
            (Some(_), None) if self.channel.is_some() || self.location_id.is_some() => Err(InvalidOrder::ChannelWithCart),
            (Some(cart), None) => Ok(BasketSource::Cart(cart.clone())),
            (None, Some(lines)) => {
                if lines.is_empty() || lines.len() > MAX_ORDER_LINES {
                    return Err(InvalidOrder::LineCount);
                }
                let mut seen = std::collections::HashSet::new();
                if let Some(dup) = lines.iter().find(|l| !seen.insert(&l.sku)) {
                    return Err(InvalidOrder::DuplicateSku(dup.sku.clone()));
                }
                Ok(BasketSource::Lines(lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect()))
            }
        }
    }
}

/// A status an order went through, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at: DateTime<Utc>,
    /// The API key that made the change.
    pub by: String,
}

/// A placed order as every channel sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    #[serde(flatten)]
    pub origin: SalesOrigin,
    pub status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<CartId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub contact: Contact,
    pub fulfilment: FulfilmentRequest,
    pub payment: PaymentTerms,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<CouponCode>,
    pub lines: Vec<PricedLine>,
    /// Which location fulfils how many units of which line.
    pub allocations: Vec<AllocatedLine>,
    pub totals: OrderTotals,
    /// The store credit the order spent, and what was left to pay by `payment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_credit: Option<CreditApplied>,
    pub placed_at: DateTime<Utc>,
    pub history: Vec<StatusChange>,
}

impl Order {
    /// The reference under which this order's units are committed in every stock ledger.
    pub fn order_ref(&self) -> OrderRef {
        order_ref(&self.id)
    }

    /// Every location that fulfils part of the order.
    pub fn locations(&self) -> Vec<LocationId> {
        let mut ids: Vec<LocationId> = self.allocations.iter().map(|a| a.location_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Moves the order on, recording who did it.
    pub fn record(&mut self, status: OrderStatus, at: DateTime<Utc>, by: &str) {
        self.status = status;
        self.history.push(StatusChange { status, at, by: by.to_owned() });
    }
}

pub fn order_ref(id: &OrderId) -> OrderRef {
    OrderRef(format!("order:{id}"))
}

/// The hold a direct order (no cart) reserves under while it is being placed.
pub fn direct_hold_ref(id: &OrderId) -> HoldRef {
    HoldRef(format!("order:{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(json: serde_json::Value) -> OrderDraft {
        serde_json::from_value(json).unwrap()
    }
    fn base() -> serde_json::Value {
        serde_json::json!({"fulfilment":{"type":"in_store"},"payment":{"method":"paid_in_store"}})
    }

    #[test]
    fn a_basket_is_a_cart_or_lines() {
        let mut v = base();
        v["cart_id"] = "cart_1".into();
        assert!(matches!(draft(v.clone()).basket(), Ok(BasketSource::Cart(_))));
        v["lines"] = serde_json::json!([{"sku":"A","quantity":1}]);
        assert_eq!(draft(v).basket().err(), Some(InvalidOrder::CartAndLines));
        assert_eq!(draft(base()).basket().err(), Some(InvalidOrder::NoBasket));
        let mut v = base();
        v["lines"] = serde_json::json!([{"sku":"A","quantity":1},{"sku":"A","quantity":2}]);
        assert!(matches!(draft(v).basket(), Err(InvalidOrder::DuplicateSku(_))));
        let mut v = base();
        v["lines"] = serde_json::json!([]);
        assert_eq!(draft(v).basket().err(), Some(InvalidOrder::LineCount));
    }

    #[test]
    fn refuses_unknown_fields_and_bad_quantities() {
        let mut v = base();
        v["lines"] = serde_json::json!([{"sku":"A","quantity":0}]);
        assert!(serde_json::from_value::<OrderDraft>(v).is_err());
        let mut v = base();
        v["gift_wrap"] = true.into();
        assert!(serde_json::from_value::<OrderDraft>(v).is_err());
    }
}
