//! The one way a flow changes two stores: it writes its D1 change together with the
//! effects it still owes to Durable Objects (commit these units, hand them over, put
//! them back, close the cart) in one D1 batch, then applies them. Every effect is
//! idempotent on the object's side, so applying one twice (a retry, two sweepers at
//! once) is harmless; once applied it is crossed off in D1. Whatever is still owed is
//! finished by the next read or move of the same order, or by the sweeper. A return's
//! effects are owed by its order, so the same settling finishes them; the linked order
//! its replacement units are handed over under owes its own, as any order does.

use crate::inventory::ledger::{Allocation, HoldRef, OrderRef};
use crate::sales::allocation::per_sku;
use crate::sales::order::StockEffect;
use crate::sales::placement::{direct_hold_ref, order_ref, Order};
use crate::returns::Return;
use chrono::{DateTime, Utc};
use crate::shared::ids::{CartId, LocationId, OrderId, Sku};
use crate::shared::quantity::PositiveQuantity;
use serde::{Deserialize, Serialize};

/// A change owed to a SKU's stock or to a cart after a D1 write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// The order's units of one SKU move from held to committed (owed by an order written
    /// while its units were only held: a return's linked replacement order).
    CommitStock { sku: Sku, order: OrderRef, hold: HoldRef, allocations: Vec<Allocation> },
    /// The order's committed units of one SKU leave their locations.
    HandOver { sku: Sku, order: OrderRef },
    /// The order's units of one SKU go back on hand; never committed, they can no longer be.
    Restock { sku: Sku, order: OrderRef },
    /// A received return line's resellable units go on hand where it was received.
    ReceiveReturn { sku: Sku, receipt: OrderRef, location_id: LocationId, quantity: PositiveQuantity },
    /// A return's replacement units stay held where they will be handed over, until
    /// `until` (the opening held them briefly; this keeps them). Units gone meanwhile
    /// cannot be held: the receipt then hands over what is there.
    /// Held for the linked `order` they will be handed over under: once that order's units
    /// are settled (handed over, or voided by a release), a late hold holds nothing.
    HoldReplacement { sku: Sku, order: OrderRef, hold: HoldRef, allocations: Vec<Allocation>, until: DateTime<Utc> },
    /// A cancelled or rejected return's replacement units are let go, and its linked order
    /// voided so that no late hold takes them again.
    ReleaseReplacement { sku: Sku, order: OrderRef, hold: HoldRef },
    /// The cart the order was placed from is closed for it.
    CloseCart { cart: CartId, order: OrderId },
}

/// An effect recorded in D1 and not yet applied, in the order its entity owes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedEffect {
    /// Increases with every effect recorded: an entity's effects apply in this order.
    pub seq: i64,
    pub effect: Effect,
}

/// The hold an order's units were reserved under before it was written.
pub fn placement_hold(order: &Order) -> HoldRef {
    match &order.cart_id {
        Some(cart) => crate::sales::cart::cart_hold_ref(cart),
        None => direct_hold_ref(&order.id),
    }
}

/// What writing `order` owes while its units are only held (a return's linked
/// replacement order): every SKU's units committed, then what `owed_once_taken` says.
pub fn owed_at_placement(order: &Order) -> Vec<Effect> {
    let reference = order.order_ref();
    let hold = placement_hold(order);
    let mut effects: Vec<Effect> = per_sku(&order.allocations)
        .into_iter()
        .map(|(sku, allocations)| Effect::CommitStock { sku, order: reference.clone(), hold: hold.clone(), allocations })
        .collect();
    effects.extend(owed_once_taken(order));
    effects
}

/// What a placed order owes once written, its units taken (committed) before the write:
/// an in-store sale's units handed over at once, and the cart closed.
pub fn owed_once_taken(order: &Order) -> Vec<Effect> {
    let mut effects = Vec::new();
    if StockEffect::at_placement(order.fulfilment.kind()) == StockEffect::HandOver {
        effects.extend(stock_effects(order, StockEffect::HandOver));
    }
    if let Some(cart) = &order.cart_id {
        effects.push(Effect::CloseCart { cart: cart.clone(), order: order.id.clone() });
    }
    effects
}

/// What an order being placed owes should it never be written, recorded before its
/// placement takes any units: every SKU's units voided (put back if taken), so that a
/// placement that dies between taking and writing leaves nothing committed.
pub fn owed_while_placing(order: &OrderId, skus: &[Sku]) -> Vec<Effect> {
    let reference = order_ref(order);
    skus.iter().map(|sku| Effect::Restock { sku: sku.clone(), order: reference.clone() }).collect()
}

/// What a status change owes the stock of every SKU of the order.
pub fn stock_effects(order: &Order, effect: StockEffect) -> Vec<Effect> {
    let reference = order.order_ref();
    per_sku(&order.allocations)
        .into_keys()
        .filter_map(|sku| match effect {
            StockEffect::None => None,
            StockEffect::HandOver => Some(Effect::HandOver { sku, order: reference.clone() }),
            StockEffect::Restock => Some(Effect::Restock { sku, order: reference.clone() }),
        })
        .collect()
}

/// What holding a return's replacement units until `until` owes (`release`: letting them go).
pub fn replacement_holds(ret: &Return, release: bool) -> Vec<Effect> {
    let Some(replacement) = &ret.replacement else { return Vec::new() };
    let hold = direct_hold_ref(&replacement.order_id);
    let order = order_ref(&replacement.order_id);
    replacement
        .lines
        .iter()
        .map(|l| match release {
            true => Effect::ReleaseReplacement { sku: l.sku.clone(), order: order.clone(), hold: hold.clone() },
            false => Effect::HoldReplacement {
                sku: l.sku.clone(),
                order: order.clone(),
                hold: hold.clone(),
                allocations: vec![Allocation { location_id: replacement.location_id.clone(), quantity: l.quantity }],
                until: replacement.held_until,
            },
        })
        .collect()
}

/// What receiving `received` owes the stock: each resellable line's units on hand
/// where it was received (damaged units stay out of stock, counted on the return).
pub fn owed_at_receipt(received: &Return) -> Vec<Effect> {
    received
        .restocks()
        .into_iter()
        .map(|(sku, receipt, location_id, quantity)| Effect::ReceiveReturn { sku, receipt, location_id, quantity })
        .collect()
}
