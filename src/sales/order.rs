//! An order's lifecycle and its stock effects, and how it is paid. A pickup goes
//! placed → ready_for_pickup → collected, a delivery placed → shipped → delivered, an
//! in-store sale is born collected; any order may be cancelled until it is handed over.
//! Handing over (collect, ship) lets committed units leave; cancelling puts them back.

use crate::sales::fulfilment::FulfilmentKind;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    ReadyForPickup,
    Collected,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::ReadyForPickup => "ready_for_pickup",
            OrderStatus::Collected => "collected",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Placed,
        OrderStatus::ReadyForPickup,
        OrderStatus::Collected,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    /// The status an order is born with: an in-store sale is handed over on the spot.
    pub fn initial(fulfilment: FulfilmentKind) -> Self {
        match fulfilment {
            FulfilmentKind::InStore => OrderStatus::Collected,
            FulfilmentKind::Pickup | FulfilmentKind::Delivery => OrderStatus::Placed,
        }
    }

    /// Still waiting for the shopper or the carrier (what a store's open pickups list shows).
    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::Placed | OrderStatus::ReadyForPickup)
    }

    /// The goods have left the location (so the order can no longer be cancelled).
    pub fn is_handed_over(self) -> bool {
        matches!(self, OrderStatus::Collected | OrderStatus::Shipped | OrderStatus::Delivered)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a store, warehouse or back-office does to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    /// A pickup order is packed and waiting at the store.
    MarkReady,
    /// The shopper took a pickup order.
    Collect,
    /// A delivery order left its location(s).
    Ship,
    /// The carrier delivered it.
    Deliver,
    /// Called off before hand-over.
    Cancel,
}

impl OrderAction {
    pub const ALL: [OrderAction; 5] =
        [OrderAction::MarkReady, OrderAction::Collect, OrderAction::Ship, OrderAction::Deliver, OrderAction::Cancel];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderAction::MarkReady => "mark_ready",
            OrderAction::Collect => "collect",
            OrderAction::Ship => "ship",
            OrderAction::Deliver => "deliver",
            OrderAction::Cancel => "cancel",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        OrderAction::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// What the action does to the units committed to the order.
    pub fn stock_effect(self) -> StockEffect {
        match self {
            OrderAction::Collect | OrderAction::Ship => StockEffect::HandOver,
            OrderAction::Cancel => StockEffect::Restock,
            OrderAction::MarkReady | OrderAction::Deliver => StockEffect::None,
        }
    }

    fn done(self) -> &'static str {
        match self {
            OrderAction::MarkReady => "marked ready for pickup",
            OrderAction::Collect => "collected",
            OrderAction::Ship => "shipped",
            OrderAction::Deliver => "delivered",
            OrderAction::Cancel => "cancelled",
        }
    }
}

impl fmt::Display for OrderAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happens to the units an order committed (see `stock::StockLedger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockEffect {
    None,
    /// `hand_over`: the committed units leave their locations.
    HandOver,
    /// `restock`: the committed units go back on hand where they came from.
    Restock,
}

impl StockEffect {
    /// What follows the commit when an order is placed: an in-store sale is handed over at once.
    pub fn at_placement(fulfilment: FulfilmentKind) -> Self {
        match fulfilment {
            FulfilmentKind::InStore => StockEffect::HandOver,
            FulfilmentKind::Pickup | FulfilmentKind::Delivery => StockEffect::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("a {fulfilment} order that is {} cannot be {}", from.as_str().replace('_', " "), action.done())]
    InvalidTransition { from: OrderStatus, action: OrderAction, fulfilment: FulfilmentKind },
}

/// The status after `action`, or why the action does not apply to this order now.
pub fn transition(current: OrderStatus, action: OrderAction, fulfilment: FulfilmentKind) -> Result<OrderStatus, LifecycleError> {
    use FulfilmentKind::{Delivery, Pickup};
    use OrderAction::{Cancel, Collect, Deliver, MarkReady, Ship};
    use OrderStatus::{Cancelled, Collected, Delivered, Placed, ReadyForPickup, Shipped};
    match (fulfilment, current, action) {
        (Pickup, Placed, MarkReady) => Ok(ReadyForPickup),
        (Pickup, ReadyForPickup, Collect) => Ok(Collected),
        (Delivery, Placed, Ship) => Ok(Shipped),
        (Delivery, Shipped, Deliver) => Ok(Delivered),
        (Pickup | Delivery, Placed | ReadyForPickup, Cancel) => Ok(Cancelled),
        _ => Err(LifecycleError::InvalidTransition { from: current, action, fulfilment }),
    }
}

/// The actions an order in `current` status accepts, in lifecycle order.
pub fn allowed_actions(current: OrderStatus, fulfilment: FulfilmentKind) -> Vec<OrderAction> {
    OrderAction::ALL.into_iter().filter(|&a| transition(current, a, fulfilment).is_ok()).collect()
}

/// How an order is paid. omniedge records it; it processes no payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Paid before placement, through a payment service (any fulfilment).
    Prepaid,
    /// Paid to the carrier (delivery only).
    PayOnDelivery,
    /// Paid at the store when collecting (pickup only).
    PayOnPickup,
    /// Paid at the till (in-store sales only).
    PaidInStore,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Prepaid => "prepaid",
            PaymentMethod::PayOnDelivery => "pay_on_delivery",
            PaymentMethod::PayOnPickup => "pay_on_pickup",
            PaymentMethod::PaidInStore => "paid_in_store",
        }
    }

    pub fn fits(self, fulfilment: FulfilmentKind) -> bool {
        match self {
            PaymentMethod::Prepaid => true,
            PaymentMethod::PayOnDelivery => fulfilment == FulfilmentKind::Delivery,
            PaymentMethod::PayOnPickup => fulfilment == FulfilmentKind::Pickup,
            PaymentMethod::PaidInStore => fulfilment == FulfilmentKind::InStore,
        }
    }

    /// The methods a fulfilment accepts.
    pub fn allowed_for(fulfilment: FulfilmentKind) -> Vec<PaymentMethod> {
        [PaymentMethod::Prepaid, PaymentMethod::PayOnDelivery, PaymentMethod::PayOnPickup, PaymentMethod::PaidInStore]
            .into_iter()
            .filter(|m| m.fits(fulfilment))
            .collect()
    }
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest payment reference (a payment service's id).
pub const MAX_REFERENCE: usize = 128;

/// How an order is paid: `{"method":"prepaid","reference":"pi_3N..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentTerms {
    pub method: PaymentMethod,
    /// The payment service's id for the payment, 1 to 128 printable characters.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "optional_reference")]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("payment {method} does not fit a {fulfilment} order")]
    NotAllowed { method: PaymentMethod, fulfilment: FulfilmentKind },
    #[error("a payment reference must be 1 to {MAX_REFERENCE} printable characters")]
    InvalidReference,
}

impl PaymentTerms {
    pub fn new(method: PaymentMethod, reference: Option<&str>) -> Result<Self, PaymentError> {
        let reference = reference.map(parse_reference).transpose()?;
        Ok(PaymentTerms { method, reference })
    }

    /// Whether the payment method fits how the order is fulfilled.
    pub fn check_fits(&self, fulfilment: FulfilmentKind) -> Result<(), PaymentError> {
        if self.method.fits(fulfilment) {
            Ok(())
        } else {
            Err(PaymentError::NotAllowed { method: self.method, fulfilment })
        }
    }
}

fn parse_reference(text: &str) -> Result<String, PaymentError> {
    let trimmed = text.trim();
    let ok = !trimmed.is_empty() && trimmed.chars().count() <= MAX_REFERENCE && !trimmed.chars().any(char::is_control);
    ok.then(|| trimmed.to_owned()).ok_or(PaymentError::InvalidReference)
}

fn optional_reference<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?.as_deref().map(parse_reference).transpose().map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use FulfilmentKind::{Delivery, InStore, Pickup};
    use OrderAction::*;
    use OrderStatus::*;

    #[test]
    fn a_pickup_is_readied_then_collected() {
        assert_eq!(OrderStatus::initial(Pickup), Placed);
        assert_eq!(transition(Placed, MarkReady, Pickup), Ok(ReadyForPickup));
        assert_eq!(transition(ReadyForPickup, Collect, Pickup), Ok(Collected));
        assert!(transition(Placed, Collect, Pickup).is_err(), "must be readied first");
        assert!(transition(Placed, Ship, Pickup).is_err());
        assert!(transition(ReadyForPickup, MarkReady, Pickup).is_err());
    }

    #[test]
    fn a_delivery_is_shipped_then_delivered() {
        assert_eq!(OrderStatus::initial(Delivery), Placed);
        assert_eq!(transition(Placed, Ship, Delivery), Ok(Shipped));
        assert_eq!(transition(Shipped, Deliver, Delivery), Ok(Delivered));
        assert!(transition(Placed, MarkReady, Delivery).is_err());
        assert!(transition(Placed, Deliver, Delivery).is_err());
        assert!(transition(Placed, Collect, Delivery).is_err());
    }

    #[test]
    fn cancelling_is_only_before_hand_over() {
        assert_eq!(transition(Placed, Cancel, Pickup), Ok(Cancelled));
        assert_eq!(transition(ReadyForPickup, Cancel, Pickup), Ok(Cancelled));
        assert_eq!(transition(Placed, Cancel, Delivery), Ok(Cancelled));
        for (status, kind) in [(Collected, Pickup), (Shipped, Delivery), (Delivered, Delivery), (Collected, InStore), (Cancelled, Pickup)] {
            assert!(transition(status, Cancel, kind).is_err(), "{status} {kind}");
            assert!(status.is_handed_over() || status == Cancelled);
        }
    }

    #[test]
    fn an_in_store_sale_is_born_collected_and_final() {
        assert_eq!(OrderStatus::initial(InStore), Collected);
        assert_eq!(StockEffect::at_placement(InStore), StockEffect::HandOver);
        assert_eq!(StockEffect::at_placement(Pickup), StockEffect::None);
        for status in OrderStatus::ALL {
            assert!(allowed_actions(status, InStore).is_empty(), "{status}");
        }
    }

    #[test]
    fn final_states_accept_nothing() {
        for kind in [Pickup, Delivery, InStore] {
            for status in [Collected, Delivered, Cancelled] {
                assert_eq!(allowed_actions(status, kind), vec![], "{status} {kind}");
            }
        }
        assert_eq!(allowed_actions(Placed, Pickup), vec![MarkReady, Cancel]);
        assert_eq!(allowed_actions(Placed, Delivery), vec![Ship, Cancel]);
        assert_eq!(allowed_actions(ReadyForPickup, Pickup), vec![Collect, Cancel]);
        assert_eq!(allowed_actions(Shipped, Delivery), vec![Deliver]);
    }

    #[test]
    fn actions_move_stock_only_at_hand_over_and_cancel() {
        assert_eq!(Collect.stock_effect(), StockEffect::HandOver);
        assert_eq!(Ship.stock_effect(), StockEffect::HandOver);
        assert_eq!(Cancel.stock_effect(), StockEffect::Restock);
        assert_eq!(MarkReady.stock_effect(), StockEffect::None);
        assert_eq!(Deliver.stock_effect(), StockEffect::None);
    }

    #[test]
    fn statuses_and_actions_have_wire_names() {
        for status in OrderStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        for action in OrderAction::ALL {
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
            assert_eq!(OrderAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(OrderAction::parse("refund"), None);
        assert!(Placed.is_open() && ReadyForPickup.is_open() && !Shipped.is_open());
    }

    #[test]
    fn payment_must_fit_the_fulfilment() {
        let fits = |m: PaymentMethod, k| PaymentTerms::new(m, None).unwrap().check_fits(k).is_ok();
        for kind in [Pickup, Delivery, InStore] {
            assert!(fits(PaymentMethod::Prepaid, kind));
        }
        assert!(fits(PaymentMethod::PayOnPickup, Pickup) && !fits(PaymentMethod::PayOnPickup, Delivery) && !fits(PaymentMethod::PayOnPickup, InStore));
        assert!(fits(PaymentMethod::PayOnDelivery, Delivery) && !fits(PaymentMethod::PayOnDelivery, Pickup));
        assert!(fits(PaymentMethod::PaidInStore, InStore) && !fits(PaymentMethod::PaidInStore, Pickup));
        assert_eq!(PaymentMethod::allowed_for(Pickup), vec![PaymentMethod::Prepaid, PaymentMethod::PayOnPickup]);
    }

    #[test]
    fn parses_payment_terms() {
        let t: PaymentTerms = serde_json::from_str(r#"{"method":"prepaid","reference":" pi_3N9xyz "}"#).unwrap();
        assert_eq!(t, PaymentTerms { method: PaymentMethod::Prepaid, reference: Some("pi_3N9xyz".into()) });
        let t: PaymentTerms = serde_json::from_str(r#"{"method":"paid_in_store"}"#).unwrap();
        assert_eq!(t.reference, None);
        assert_eq!(serde_json::to_value(&t).unwrap(), serde_json::json!({"method":"paid_in_store"}));
        let long = format!(r#"{{"method":"prepaid","reference":"{}"}}"#, "x".repeat(129));
        let bad = [
            r#"{"method":"card"}"#,
            r#"{"method":"prepaid","reference":""}"#,
            r#"{"method":"prepaid","reference":"   "}"#,
            r#"{"method":"prepaid","reference":"a\nb"}"#,
            r#"{"method":"prepaid","amount":"5"}"#,
            r#"{"reference":"x"}"#,
            &long,
        ];
        for json in bad {
            assert!(serde_json::from_str::<PaymentTerms>(json).is_err(), "{json}");
        }
        assert!(PaymentTerms::new(PaymentMethod::Prepaid, Some(&"x".repeat(128))).is_ok());
        assert_eq!(PaymentTerms::new(PaymentMethod::Prepaid, Some("")), Err(PaymentError::InvalidReference));
    }

    #[test]
    fn refusals_say_what_is_allowed() {
        let e = transition(Shipped, Cancel, Delivery).unwrap_err();
        assert_eq!(e.to_string(), "a delivery order that is shipped cannot be cancelled");
        assert_eq!(allowed_actions(Shipped, Delivery), vec![Deliver]);
        let e = PaymentTerms::new(PaymentMethod::PayOnPickup, None).unwrap().check_fits(Delivery).unwrap_err();
        assert_eq!(e.to_string(), "payment pay_on_pickup does not fit a delivery order");
        assert_eq!(PaymentMethod::allowed_for(Delivery), vec![PaymentMethod::Prepaid, PaymentMethod::PayOnDelivery]);
        let e = transition(ReadyForPickup, MarkReady, Pickup).unwrap_err();
        assert_eq!(e.to_string(), "a pickup order that is ready for pickup cannot be marked ready for pickup");
    }
}
