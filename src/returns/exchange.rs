//! What a shopper takes home from a return: replacement units for exchanged lines
//! (another SKU of the same style, or the same SKU for a defect) and,
//! when a line's reason earns goodwill, a goodwill gesture: a single-use coupon for the
//! next purchase in any channel, or a gift handed over at the receiving location at no
//! charge. Replacement and gift units are held at the receiving location from opening
//! until `held_until`; on receipt they become a linked in-store order of that location
//! (`linked_order`). An exchange at the same list price leaves nothing to pay; a dearer
//! replacement's difference is the linked order's balance, paid at the till; a cheaper
//! one's is refunded with the return (never more than was paid for the returned units);
//! what the return refunds pays the dearer differences first, so only the net is due.

use super::{ReasonCode, Return};
use crate::catalog::Product;
use crate::pricing::coupon::{Coupon, CouponCode, CouponKind};
use crate::pricing::{OrderTotals, PricedLine};
use crate::sales::allocation::AllocatedLine;
use crate::sales::fulfilment::FulfilmentRequest;
use crate::sales::order::{OrderStatus, PaymentMethod, PaymentTerms};
use crate::sales::origin::SalesOrigin;
use crate::sales::placement::Order;
use crate::shared::ids::{LocationId, OrderId, ReturnId, Sku};
use crate::shared::money::Money;
use crate::shared::quantity::PositiveQuantity;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Units set aside at the receiving location for the shopper to take home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// The linked order they are handed over under, written when the return is received.
    pub order_id: OrderId,
    pub location_id: LocationId,
    /// Until when they are held.
    pub held_until: DateTime<Utc>,
    pub lines: Vec<ReplacementLine>,
    /// What the shopper pays at the till when they are handed over: the dearer
    /// replacements' price differences (zero when no replacement costs more).
    pub balance_due: Money,
}

/// One SKU set aside, at its catalog price (paid by the returned units and any balance, or a gift).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacementLine {
    pub sku: Sku,
    pub name: String,
    pub quantity: PositiveQuantity,
    pub unit_price: Money,
}

/// A goodwill gesture for a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Goodwill {
    /// A single-use coupon, valid in every channel, issued when the goods are received.
    Coupon { code: CouponCode, percent: Decimal, expires_at: DateTime<Utc> },
    /// A unit of `sku` handed over with the replacement units at no charge.
    Gift { sku: Sku },
}

/// Which reasons earn goodwill, and what: `offer`, or the reason's own in `per_reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoodwillPolicy {
    pub reasons: Vec<ReasonCode>,
    pub offer: GoodwillOffer,
    pub per_reason: BTreeMap<ReasonCode, GoodwillOffer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoodwillOffer {
    Coupon { percent: Decimal, valid_days: u32 },
    Gift { sku: Sku },
}

impl Default for GoodwillPolicy {
    /// Defective goods earn a 10 % coupon valid for 90 days.
    fn default() -> Self {
        GoodwillPolicy { reasons: vec![ReasonCode::Defective], offer: GoodwillOffer::Coupon { percent: Decimal::TEN, valid_days: 90 }, per_reason: BTreeMap::new() }
    }
}

impl GoodwillPolicy {
    /// Parses the configuration: `reasons` a comma list of reason codes (or `none`),
    /// `offers` a comma list of one offer for every reason, either `coupon:<percent>:<days>`
    /// or `gift:<sku>`, and any `<reason>=<offer>` for a reason of its own
    /// (`coupon:10:90,not_as_described=gift:SOCKS-GIFT`).
    pub fn parse(reasons: &str, offers: &str) -> Result<Self, String> {
        let reasons = match reasons.trim() {
            "none" | "" => Vec::new(),
            list => list.split(',').map(|r| ReasonCode::parse(r.trim()).ok_or_else(|| format!("unknown reason {r:?}"))).collect::<Result<_, _>>()?,
        };
        let (mut offer, mut per_reason) = (None, BTreeMap::new());
        for entry in offers.split(',').map(str::trim) {
            match entry.split_once('=') {
                Some((reason, text)) => {
                    let reason = ReasonCode::parse(reason.trim()).ok_or_else(|| format!("unknown reason {reason:?}"))?;
                    per_reason.insert(reason, GoodwillOffer::parse(text)?);
                }
                None if offer.is_none() => offer = Some(GoodwillOffer::parse(entry)?),
                None => return Err(format!("more than one goodwill offer for every reason in {offers:?}")),
            }
        }
        let offer = offer.ok_or_else(|| format!("no goodwill offer for every reason in {offers:?}"))?;
        Ok(GoodwillPolicy { reasons, offer, per_reason })
    }

    /// The offer a return earns: the one for the first of its lines whose reason earns goodwill.
    pub fn offer_for(&self, ret: &Return) -> Option<&GoodwillOffer> {
        let reason = ret.lines.iter().map(|l| l.reason.code()).find(|r| self.reasons.contains(r))?;
        Some(self.per_reason.get(&reason).unwrap_or(&self.offer))
    }
}

impl GoodwillOffer {
    /// `coupon:<percent>:<days>` or `gift:<sku>`.
    fn parse(text: &str) -> Result<Self, String> {
        Ok(match text.trim().split(':').collect::<Vec<_>>()[..] {
            ["coupon", percent, days] => {
                let percent: Decimal = percent.parse().map_err(|_| format!("bad percent {percent:?}"))?;
                CouponKind::percent(percent).map_err(|e| e.to_string())?;
                GoodwillOffer::Coupon { percent, valid_days: days.parse().map_err(|_| format!("bad days {days:?}"))? }
            }
            ["gift", sku] => GoodwillOffer::Gift { sku: Sku::parse(sku).map_err(|e| e.to_string())? },
            _ => return Err(format!("goodwill offer must be coupon:<percent>:<days> or gift:<sku>, got {text:?}")),
        })
    }
}

/// Why an exchange cannot be arranged; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    #[error("{sku} is not in the catalog")]
    UnknownProduct { sku: Sku },
    #[error("{replacement} is not of the same style as {sku}: exchange within a style")]
    OtherStyle { sku: Sku, replacement: Sku },
    #[error("{replacement} is priced in {}, {sku} was sold in {}: exchange in the order's currency", price.currency, paid.currency)]
    OtherCurrency { sku: Sku, replacement: Sku, paid: Money, price: Money },
}

/// The id of the order a return's replacement units are handed over under.
/// Derived from the return's id (shaped like every order id), so a retry names the same order.
pub fn linked_order_id(id: &ReturnId) -> OrderId {
    OrderId::parse(&format!("ord_{}", &digest(id)[..32])).expect("a valid order id")
}

/// The goodwill coupon code of a return: derived from its id, so it is issued once.
pub fn goodwill_code(id: &ReturnId) -> CouponCode {
    CouponCode::parse(&format!("GW-{}", &digest(id)[32..52])).expect("a valid coupon code")
}

fn digest(id: &ReturnId) -> String {
    hex::encode(Sha256::digest(id.as_str().as_bytes()))
}

/// Sets the return's replacement units and goodwill: checks every exchanged line against
/// the catalog (`products`: the returned, replacement and gift SKUs) and settles its price
/// difference: a dearer replacement adds to the balance due at the till, a cheaper one
/// refunds the difference (at most what the returned units paid); what the return
/// refunds pays the balance first, so the shopper either pays or is refunded the net.
/// Replacement units are held for `hold` from `now`.
pub fn arrange(ret: &mut Return, order: &Order, products: &[Product], policy: &GoodwillPolicy, now: DateTime<Utc>, hold: Duration) -> Result<(), ExchangeError> {
    let product = |sku: &Sku| products.iter().find(|p| &p.sku == sku).ok_or_else(|| ExchangeError::UnknownProduct { sku: sku.clone() });
    let mut lines: Vec<ReplacementLine> = Vec::new();
    let mut set_aside = |sku: &Sku, name: &str, quantity: PositiveQuantity, unit_price: Money| match lines.iter_mut().find(|l| &l.sku == sku) {
        Some(line) => line.quantity = PositiveQuantity::new(i64::from(line.quantity.get()) + i64::from(quantity.get())).unwrap_or(line.quantity),
        None => lines.push(ReplacementLine { sku: sku.clone(), name: name.to_owned(), quantity, unit_price }),
    };
    let currency = order.totals.grand_total.currency;
    let mut balance_due = super::refund::from_minor(0, currency);
    for line in &mut ret.lines {
        let Some(replacement) = &line.replacement_sku else { continue };
        let sold_at = order.lines.iter().find(|l| l.sku == line.sku).map(|l| l.unit_price.clone()).ok_or_else(|| ExchangeError::UnknownProduct { sku: line.sku.clone() })?;
        let (returned, wanted) = (product(&line.sku)?, product(replacement)?);
        if returned.style != wanted.style {
            return Err(ExchangeError::OtherStyle { sku: line.sku.clone(), replacement: replacement.clone() });
        }
        if wanted.price.currency != sold_at.currency {
            return Err(ExchangeError::OtherCurrency { sku: line.sku.clone(), replacement: replacement.clone(), paid: sold_at, price: wanted.price.clone() });
        }
        let difference = (wanted.price.amount - sold_at.amount) * Decimal::from(line.quantity.get());
        match difference.is_sign_negative() {
            true => line.refund = Money { amount: (-difference).min(line.paid.amount), currency },
            false => balance_due += difference,
        }
        set_aside(replacement, &wanted.name, line.quantity, wanted.price.clone());
    }
    // The return's refund pays for dearer replacements first (the shopper is not charged
    // at the till and refunded later): only what it cannot cover is due, and only what is
    // left of it is refunded.
    for line in &mut ret.lines {
        let used = balance_due.min(line.refund.amount);
        line.refund.amount -= used;
        balance_due -= used;
    }
    ret.refund = super::Refund::of(&ret.lines, ret.refund.delivery.clone());
    if let Some(offer) = policy.offer_for(ret) {
        ret.goodwill = Some(match offer {
            GoodwillOffer::Coupon { percent, valid_days } => {
                Goodwill::Coupon { code: goodwill_code(&ret.id), percent: *percent, expires_at: now + Duration::days(i64::from(*valid_days)) }
            }
            GoodwillOffer::Gift { sku } => {
                let gift = product(sku)?;
                set_aside(sku, &gift.name, PositiveQuantity::ONE, gift.price.clone());
                Goodwill::Gift { sku: sku.clone() }
            }
        });
    }
    if !lines.is_empty() {
        ret.replacement = Some(Replacement {
            order_id: linked_order_id(&ret.id),
            location_id: ret.location_id.clone(),
            held_until: now + hold,
            lines,
            balance_due: Money { amount: balance_due, currency },
        });
    }
    Ok(())
}

impl Goodwill {
    /// The coupon this gesture issues, if it is one.
    pub fn coupon(&self) -> Option<Coupon> {
        match self {
            Goodwill::Coupon { code, percent, expires_at } => Some(Coupon {
                code: code.clone(),
                kind: CouponKind::Percent(*percent),
                minimum_basket: None,
                expires_at: Some(*expires_at),
                max_redemptions: Some(1),
                redeemed: 0,
            }),
            Goodwill::Gift { .. } => None,
        }
    }
}

/// The in-store order the replacement units are handed over under at the receiving
/// location: priced at their catalog prices, all of it taken off but the balance due
/// (the returned units paid for exchanged ones; gifts are free), which the shopper pays
/// at the till.
pub fn linked_order(ret: &Return, original: &Order, by: &str, now: DateTime<Utc>) -> Option<Order> {
    let replacement = ret.replacement.as_ref()?;
    let currency = original.totals.grand_total.currency;
    let lines: Vec<PricedLine> = replacement
        .lines
        .iter()
        .map(|l| PricedLine {
            sku: l.sku.clone(),
            name: l.name.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price.clone(),
            line_total: Money { amount: l.unit_price.amount * Decimal::from(l.quantity.get()), currency: l.unit_price.currency },
        })
        .collect();
    let subtotal: Decimal = lines.iter().map(|l| l.line_total.amount).sum();
    let due = replacement.balance_due.amount;
    let money = |amount| Money { amount, currency };
    let at = &replacement.location_id;
    let mut order = Order {
        id: replacement.order_id.clone(),
        origin: SalesOrigin::Store { location_id: at.clone() },
        status: OrderStatus::Collected,
        cart_id: None,
        customer_id: original.customer_id.clone(),
        contact: original.contact.clone(),
        fulfilment: FulfilmentRequest::InStore { location_id: at.clone() },
        payment: PaymentTerms { method: PaymentMethod::PaidInStore, reference: None },
        coupon_code: None,
        allocations: lines.iter().map(|l| AllocatedLine { sku: l.sku.clone(), quantity: l.quantity, location_id: at.clone() }).collect(),
        lines,
        totals: OrderTotals { subtotal: money(subtotal), discount: money(subtotal - due), delivery_charge: money(Decimal::ZERO), grand_total: money(due) },
        store_credit: None,
        placed_at: now,
        history: Vec::new(),
    };
    order.record(OrderStatus::Collected, now, by);
    Some(order)
}
