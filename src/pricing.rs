//! Money for a basket or an order: line totals, a coupon's discount, the delivery
//! charge and the grand total, all in the basket's one currency and all `Decimal`.
//! Coupons, the discounts that every channel accepts, are in `coupon`.
//!
//! Rounding: every computed amount (line total, percentage discount, delivery charge)
//! is rounded to the currency's minor unit (2 decimals for most, 0 for JPY and the
//! like, 3 for KWD and the like) half away from zero (`MidpointAwayFromZero`: 0.125
//! becomes 0.13), the way a till rounds, and shown with exactly that many decimals.


pub mod coupon;

use crate::catalog::Product;
use crate::pricing::coupon::{Coupon, CouponError, CouponKind};
use crate::sales::fulfilment::FulfilmentKind;
use crate::shared::geo::round_km;
use crate::shared::ids::Sku;
use crate::shared::money::{parse_amount, Currency, Money};
use crate::shared::quantity::PositiveQuantity;
use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;

/// The largest total a basket may reach (what `Money` accepts back when an order is read).
pub const MAX_TOTAL: i64 = 1_000_000_000;
/// Most bands a delivery tariff may have.
pub const MAX_BANDS: usize = 32;

/// One basket line with its price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub sku: Sku,
    pub name: String,
    pub quantity: PositiveQuantity,
    pub unit_price: Money,
    pub line_total: Money,
}

/// What the basket costs: `grand_total = subtotal - discount + delivery_charge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTotals {
    pub subtotal: Money,
    pub discount: Money,
    pub delivery_charge: Money,
    pub grand_total: Money,
}

impl OrderTotals {
    /// The totals of an empty basket.
    pub fn zero(currency: Currency) -> Self {
        let zero = in_minor_units(Decimal::ZERO, currency);
        OrderTotals { subtotal: zero.clone(), discount: zero.clone(), delivery_charge: zero.clone(), grand_total: zero }
    }
}

/// Deliveries up to `up_to_km` (inclusive) cost `charge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryBand {
    pub up_to_km: Decimal,
    pub charge: Decimal,
}

/// How a delivery is charged: one flat rate, or by distance band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "rate", rename_all = "snake_case")]
pub enum DeliveryRate {
    Flat(Decimal),
    /// Ascending by distance; beyond the last band nothing is delivered.
    Bands(Vec<DeliveryBand>),
}

/// A deployment's delivery charge, configured as a string such as `flat:4.95` or
/// `bands:5=2.95,20=4.95,100=7.95;free_from=100`. Amounts are in the basket's currency;
/// `free_from` makes delivery free when the basket after discount is at least that much.
/// Pickup and in-store sales pay no delivery charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryTariff {
    pub rate: DeliveryRate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_from: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delivery tariff {part:?}: {reason} (expected e.g. \"flat:4.95\" or \"bands:5=2.95,20=4.95;free_from=100\")")]
pub struct InvalidTariff {
    pub part: String,
    pub reason: &'static str,
}

/// Why a basket cannot be priced (serializable, so a cart's object can answer it).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PricingError {
    #[error("the basket has no lines")]
    EmptyBasket,
    #[error("no product {sku} in the catalog")]
    UnknownProduct { sku: Sku },
    #[error("one order is priced in one currency; the lines are in {}", join(currencies))]
    MixedCurrencies { currencies: Vec<Currency> },
    #[error("the destination is {distance_km} km away; deliveries go at most {max_km} km")]
    OutOfDeliveryRange { distance_km: f64, max_km: Decimal },
    #[error("a delivery charged by distance needs the distance to the destination")]
    DistanceUnknown,
    #[error("the basket comes to more than {MAX_TOTAL}")]
    BasketTooLarge,
    #[error(transparent)]
    Coupon(#[from] CouponError),
}

fn join(currencies: &[Currency]) -> String {
    currencies.iter().map(Currency::as_str).collect::<Vec<_>>().join(", ")
}

/// Prices `lines` from the catalog, applies `coupon` (checked against the subtotal at
/// `now`) and adds the delivery charge for a delivery `distance_km` away.
pub fn price_basket(
    lines: &[(Sku, PositiveQuantity)],
    products: &HashMap<Sku, Product>,
    coupon: Option<&Coupon>,
    fulfilment: FulfilmentKind,
    distance_km: Option<f64>,
    tariff: &DeliveryTariff,
    now: DateTime<Utc>,
) -> Result<(Vec<PricedLine>, OrderTotals), PricingError> {
    let (priced, subtotal) = price_lines_with_subtotal(lines, products)?;
    let currency = subtotal.currency;
    let discount = match coupon {
        Some(coupon) => {
            coupon.check(&subtotal, now)?;
            discount_for(&coupon.kind, &subtotal)
        }
        None => in_minor_units(Decimal::ZERO, currency),
    };
    let after_discount = in_minor_units(subtotal.amount - discount.amount, currency);
    let delivery_charge = match fulfilment {
        FulfilmentKind::Delivery => tariff.charge(distance_km, &after_discount)?,
        FulfilmentKind::Pickup | FulfilmentKind::InStore => in_minor_units(Decimal::ZERO, currency),
    };
    let grand_total = in_minor_units(after_discount.amount + delivery_charge.amount, currency);
    if grand_total.amount > Decimal::from(MAX_TOTAL) {
        return Err(PricingError::BasketTooLarge);
    }
    Ok((priced, OrderTotals { subtotal, discount, delivery_charge, grand_total }))
}

/// Prices lines from the catalog and sums them: what a cart shows before checkout.
pub fn price_lines_with_subtotal(
    lines: &[(Sku, PositiveQuantity)],
    products: &HashMap<Sku, Product>,
) -> Result<(Vec<PricedLine>, Money), PricingError> {
    let priced = price_lines(lines, products)?;
    let currency = basket_currency(&priced)?;
    let subtotal = priced.iter().fold(Decimal::ZERO, |sum, line| sum + line.line_total.amount);
    if subtotal > Decimal::from(MAX_TOTAL) {
        return Err(PricingError::BasketTooLarge);
    }
    Ok((priced, in_minor_units(subtotal, currency)))
}

fn price_lines(lines: &[(Sku, PositiveQuantity)], products: &HashMap<Sku, Product>) -> Result<Vec<PricedLine>, PricingError> {
    lines
        .iter()
        .map(|(sku, quantity)| {
            let product = products.get(sku).ok_or_else(|| PricingError::UnknownProduct { sku: sku.clone() })?;
            let total = product.price.amount * Decimal::from(quantity.get());
            Ok(PricedLine {
                sku: sku.clone(),
                name: product.name.clone(),
                quantity: *quantity,
                unit_price: product.price.clone(),
                line_total: in_minor_units(total, product.price.currency),
            })
        })
        .collect()
}

fn basket_currency(priced: &[PricedLine]) -> Result<Currency, PricingError> {
    let mut currencies: Vec<Currency> = Vec::new();
    for line in priced {
        if !currencies.contains(&line.unit_price.currency) {
            currencies.push(line.unit_price.currency);
        }
    }
    match currencies.as_slice() {
        [] => Err(PricingError::EmptyBasket),
        [one] => Ok(*one),
        _ => Err(PricingError::MixedCurrencies { currencies }),
    }
}

/// What a coupon takes off a subtotal: never more than the subtotal.
pub fn discount_for(kind: &CouponKind, subtotal: &Money) -> Money {
    let off = match kind {
        CouponKind::Percent(percent) => subtotal.amount * *percent / Decimal::ONE_HUNDRED,
        CouponKind::FixedAmount(amount) => amount.amount,
    };
    in_minor_units(off.min(subtotal.amount), subtotal.currency)
}

/// Decimal places of a currency's minor unit (ISO 4217): 2 unless listed.
pub fn minor_units(currency: Currency) -> u32 {
    match currency.as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI" | "VND" | "VUV"
        | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Rounds half away from zero to the currency's minor unit, shown with exactly that scale.
pub fn in_minor_units(amount: Decimal, currency: Currency) -> Money {
    let places = minor_units(currency);
    let mut amount = amount.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    amount.rescale(places);
    Money { amount, currency }
}

impl DeliveryTariff {
    /// Parses `flat:<amount>` or `bands:<km>=<amount>,...`, optionally followed by
    /// `;free_from=<amount>`. Bands must rise strictly in distance.
    pub fn parse(config: &str) -> Result<Self, InvalidTariff> {
        let mut parts = config.split(';').map(str::trim);
        let rate = parse_rate(parts.next().unwrap_or_default())?;
        let mut free_from = None;
        for part in parts {
            let bad = |reason| InvalidTariff { part: clip(part), reason };
            match part.split_once('=').map(|(key, value)| (key.trim(), value)) {
                Some(("free_from", amount)) if free_from.is_none() => {
                    free_from = Some(parse_amount(amount.trim()).map_err(|_| bad("free_from must be a decimal amount"))?);
                }
                Some(("free_from", _)) => return Err(bad("free_from is given twice")),
                _ => return Err(bad("unknown option; only free_from=<amount> is known")),
            }
        }
        Ok(DeliveryTariff { rate, free_from })
    }

    /// The delivery charge for a basket (after discount) going `distance_km` away.
    pub fn charge(&self, distance_km: Option<f64>, basket: &Money) -> Result<Money, PricingError> {
        let charge = match &self.rate {
            DeliveryRate::Flat(charge) => *charge,
            DeliveryRate::Bands(bands) => band_charge(bands, distance_km.ok_or(PricingError::DistanceUnknown)?)?,
        };
        let free = self.free_from.is_some_and(|from| basket.amount >= from);
        Ok(in_minor_units(if free { Decimal::ZERO } else { charge }, basket.currency))
    }
}

impl FromStr for DeliveryTariff {
    type Err = InvalidTariff;
    fn from_str(config: &str) -> Result<Self, InvalidTariff> {
        DeliveryTariff::parse(config)
    }
}

fn clip(text: &str) -> String {
    text.chars().take(80).collect()
}

fn parse_rate(part: &str) -> Result<DeliveryRate, InvalidTariff> {
    let bad = |reason| InvalidTariff { part: clip(part), reason };
    match part.split_once(':').map(|(key, value)| (key.trim(), value)) {
        Some(("flat", amount)) => parse_amount(amount.trim()).map(DeliveryRate::Flat).map_err(|_| bad("the flat rate must be a decimal amount")),
        Some(("bands", bands)) => parse_bands(bands).map(DeliveryRate::Bands),
        _ => Err(bad("must start with \"flat:\" or \"bands:\"")),
    }
}

fn parse_bands(text: &str) -> Result<Vec<DeliveryBand>, InvalidTariff> {
    let mut bands: Vec<DeliveryBand> = Vec::new();
    for part in text.split(',').map(str::trim) {
        let bad = |reason| InvalidTariff { part: clip(part), reason };
        let (km, charge) = part.split_once('=').ok_or_else(|| bad("a band is <km>=<amount>"))?;
        let up_to_km = parse_amount(km.trim()).map_err(|_| bad("the distance must be a decimal number of km"))?;
        let charge = parse_amount(charge.trim()).map_err(|_| bad("the charge must be a decimal amount"))?;
        if up_to_km <= Decimal::ZERO || bands.last().is_some_and(|last| last.up_to_km >= up_to_km) {
            return Err(bad("band distances must be above 0 and rise from band to band"));
        }
        bands.push(DeliveryBand { up_to_km, charge });
    }
    if bands.len() > MAX_BANDS {
        return Err(InvalidTariff { part: clip(text), reason: "at most 32 bands" });
    }
    Ok(bands)
}

fn band_charge(bands: &[DeliveryBand], distance_km: f64) -> Result<Decimal, PricingError> {
    let distance = Decimal::from_f64_retain(round_km(distance_km))
        .filter(|d| !d.is_sign_negative())
        .ok_or(PricingError::DistanceUnknown)?
        .round_dp(3);
    bands.iter().find(|band| distance <= band.up_to_km).map(|band| band.charge).ok_or_else(|| {
        PricingError::OutOfDeliveryRange {
            distance_km: round_km(distance_km),
            max_km: bands.last().map_or(Decimal::ZERO, |band| band.up_to_km),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::coupon::{CouponCode, CouponDraft};
    use crate::shared::ids::StyleCode;
    use std::collections::BTreeMap;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }
    fn q(n: i64) -> PositiveQuantity {
        PositiveQuantity::new(n).unwrap()
    }
    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }
    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }
    fn product(code: &str, price: &str, currency: &str) -> Product {
        Product {
            sku: sku(code),
            style: StyleCode::parse("STYLE").unwrap(),
            name: format!("Product {code}"),
            color: "black".into(),
            size: "42".into(),
            price: Money::parse(price, currency).unwrap(),
            attributes: BTreeMap::new(),
            images: Vec::new(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }
    fn catalog(items: &[(&str, &str, &str)]) -> HashMap<Sku, Product> {
        items.iter().map(|(s, p, c)| (sku(s), product(s, p, c))).collect()
    }
    fn shoes() -> HashMap<Sku, Product> {
        catalog(&[("RUN-42", "89.95", "EUR"), ("SOCK", "4.99", "EUR"), ("CAP", "19.9999", "EUR"), ("YEN", "1500", "JPY")])
    }
    fn coupon(json: &str) -> Coupon {
        let draft: CouponDraft = serde_json::from_str(json).unwrap();
        Coupon::from_draft(CouponCode::parse("TEST").unwrap(), draft)
    }
    fn tariff(config: &str) -> DeliveryTariff {
        DeliveryTariff::parse(config).unwrap()
    }
    fn amounts(t: &OrderTotals) -> [String; 4] {
        [&t.subtotal, &t.discount, &t.delivery_charge, &t.grand_total].map(|m| m.amount.to_string())
    }
    fn basket(rows: &[(&str, i64)]) -> Vec<(Sku, PositiveQuantity)> {
        rows.iter().map(|(s, n)| (sku(s), q(*n))).collect()
    }

    #[test]
    fn prices_lines_and_totals_exactly() {
        let (lines, totals) = price_basket(&basket(&[("RUN-42", 2), ("SOCK", 3)]), &shoes(), None, FulfilmentKind::Pickup, None, &tariff("flat:4.95"), now()).unwrap();
        assert_eq!(lines[0].line_total.amount.to_string(), "179.90");
        assert_eq!(lines[1].line_total.amount.to_string(), "14.97");
        assert_eq!(lines[0].name, "Product RUN-42");
        assert_eq!(amounts(&totals), ["194.87", "0.00", "0.00", "194.87"]);
        let v = serde_json::to_value(&totals).unwrap();
        assert_eq!(v["grand_total"], serde_json::json!({"amount":"194.87","currency":"EUR"}));
    }

    #[test]
    fn line_totals_round_half_away_from_zero() {
        // 19.9999 * 1 = 19.9999 -> 20.00; 0.125 -> 0.13 (banker's would give 0.12).
        let (lines, _) = price_basket(&basket(&[("CAP", 1)]), &shoes(), None, FulfilmentKind::InStore, None, &tariff("flat:0"), now()).unwrap();
        assert_eq!(lines[0].line_total.amount.to_string(), "20.00");
        assert_eq!(lines[0].unit_price.amount.to_string(), "19.9999");
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(in_minor_units(dec("0.125"), eur).amount.to_string(), "0.13");
        assert_eq!(in_minor_units(dec("0.135"), eur).amount.to_string(), "0.14");
        assert_eq!(in_minor_units(dec("7"), eur).amount.to_string(), "7.00");
        assert_eq!(in_minor_units(dec("1500.5"), Currency::parse("JPY").unwrap()).amount.to_string(), "1501");
        assert_eq!(in_minor_units(dec("1.2345"), Currency::parse("KWD").unwrap()).amount.to_string(), "1.235");
    }

    #[test]
    fn refuses_mixed_currencies_unknown_skus_and_empty_baskets() {
        let err = price_basket(&basket(&[("RUN-42", 1), ("YEN", 1), ("SOCK", 1)]), &shoes(), None, FulfilmentKind::Pickup, None, &tariff("flat:1"), now()).unwrap_err();
        assert_eq!(err, PricingError::MixedCurrencies { currencies: vec![Currency::parse("EUR").unwrap(), Currency::parse("JPY").unwrap()] });
        let err = price_basket(&basket(&[("NOPE", 1)]), &shoes(), None, FulfilmentKind::Pickup, None, &tariff("flat:1"), now()).unwrap_err();
        assert_eq!(err, PricingError::UnknownProduct { sku: sku("NOPE") });
        let err = price_basket(&[], &shoes(), None, FulfilmentKind::Pickup, None, &tariff("flat:1"), now()).unwrap_err();
        assert_eq!(err, PricingError::EmptyBasket);
        assert_eq!(amounts(&OrderTotals::zero(Currency::parse("EUR").unwrap())), ["0.00", "0.00", "0.00", "0.00"]);
    }

    #[test]
    fn a_percent_coupon_comes_off_the_subtotal_rounded() {
        // 3 x 4.99 = 14.97; 15 % = 2.2455 -> 2.25.
        let c = coupon(r#"{"kind":"percent","percent":"15"}"#);
        let (_, totals) = price_basket(&basket(&[("SOCK", 3)]), &shoes(), Some(&c), FulfilmentKind::Pickup, None, &tariff("flat:4.95"), now()).unwrap();
        assert_eq!(amounts(&totals), ["14.97", "2.25", "0.00", "12.72"]);
        let all = coupon(r#"{"kind":"percent","percent":"100"}"#);
        let (_, totals) = price_basket(&basket(&[("SOCK", 3)]), &shoes(), Some(&all), FulfilmentKind::Delivery, None, &tariff("flat:4.95"), now()).unwrap();
        assert_eq!(amounts(&totals), ["14.97", "14.97", "4.95", "4.95"]);
    }

    #[test]
    fn a_fixed_coupon_never_takes_more_than_the_subtotal() {
        let c = coupon(r#"{"kind":"fixed_amount","amount":{"amount":"10","currency":"EUR"}}"#);
        let (_, totals) = price_basket(&basket(&[("SOCK", 1)]), &shoes(), Some(&c), FulfilmentKind::Delivery, None, &tariff("flat:4.95"), now()).unwrap();
        assert_eq!(amounts(&totals), ["4.99", "4.99", "4.95", "4.95"]);
        let (_, totals) = price_basket(&basket(&[("RUN-42", 1)]), &shoes(), Some(&c), FulfilmentKind::Pickup, None, &tariff("flat:4.95"), now()).unwrap();
        assert_eq!(amounts(&totals), ["89.95", "10.00", "0.00", "79.95"]);
    }

    #[test]
    fn a_coupon_that_does_not_apply_fails_the_pricing() {
        let c = coupon(r#"{"kind":"fixed_amount","amount":{"amount":"10","currency":"EUR"},"minimum_basket":{"amount":"50","currency":"EUR"}}"#);
        let err = price_basket(&basket(&[("SOCK", 1)]), &shoes(), Some(&c), FulfilmentKind::Pickup, None, &tariff("flat:1"), now()).unwrap_err();
        assert!(matches!(err, PricingError::Coupon(CouponError::BelowMinimum { .. })));
        let err = price_basket(&basket(&[("YEN", 1)]), &shoes(), Some(&c), FulfilmentKind::Pickup, None, &tariff("flat:1"), now()).unwrap_err();
        assert!(matches!(err, PricingError::Coupon(CouponError::CurrencyMismatch { .. })));
    }

    #[test]
    fn delivery_is_charged_by_band_and_free_from_a_basket_size() {
        let t = tariff("bands:5=2.95,20=4.95,100=7.95;free_from=100");
        let charge = |km: f64, basket: &str| t.charge(Some(km), &Money::parse(basket, "EUR").unwrap()).map(|m| m.amount.to_string());
        assert_eq!(charge(0.0, "10"), Ok("2.95".into()));
        assert_eq!(charge(5.0, "10"), Ok("2.95".into()));
        assert_eq!(charge(5.0004, "10"), Ok("2.95".into()), "banded at metre precision");
        assert_eq!(charge(5.001, "10"), Ok("4.95".into()));
        assert_eq!(charge(100.0, "99.99"), Ok("7.95".into()));
        assert_eq!(charge(100.0, "100"), Ok("0.00".into()));
        assert!(matches!(charge(100.2, "100"), Err(PricingError::OutOfDeliveryRange { max_km, .. }) if max_km == dec("100")));
        assert_eq!(t.charge(None, &Money::parse("1", "EUR").unwrap()), Err(PricingError::DistanceUnknown));
        assert_eq!(charge(f64::NAN, "10"), Err(PricingError::DistanceUnknown));
    }

    #[test]
    fn free_delivery_counts_the_basket_after_discount() {
        let t = tariff("flat:4.95;free_from=90");
        let c = coupon(r#"{"kind":"fixed_amount","amount":{"amount":"5","currency":"EUR"}}"#);
        let (_, totals) = price_basket(&basket(&[("RUN-42", 1), ("SOCK", 1)]), &shoes(), None, FulfilmentKind::Delivery, None, &t, now()).unwrap();
        assert_eq!(amounts(&totals), ["94.94", "0.00", "0.00", "94.94"]);
        let (_, totals) = price_basket(&basket(&[("RUN-42", 1), ("SOCK", 1)]), &shoes(), Some(&c), FulfilmentKind::Delivery, None, &t, now()).unwrap();
        assert_eq!(amounts(&totals), ["94.94", "5.00", "4.95", "94.89"]);
    }

    #[test]
    fn pickup_and_in_store_pay_no_delivery_even_beyond_range() {
        let t = tariff("bands:5=2.95");
        for kind in [FulfilmentKind::Pickup, FulfilmentKind::InStore] {
            let (_, totals) = price_basket(&basket(&[("SOCK", 1)]), &shoes(), None, kind, Some(900.0), &t, now()).unwrap();
            assert_eq!(totals.delivery_charge.amount.to_string(), "0.00");
        }
        let err = price_basket(&basket(&[("SOCK", 1)]), &shoes(), None, FulfilmentKind::Delivery, Some(900.0), &t, now()).unwrap_err();
        assert_eq!(err, PricingError::OutOfDeliveryRange { distance_km: 900.0, max_km: dec("5") });
    }

    #[test]
    fn a_yen_basket_has_no_decimals() {
        let (_, totals) = price_basket(&basket(&[("YEN", 2)]), &shoes(), Some(&coupon(r#"{"kind":"percent","percent":"7.5"}"#)), FulfilmentKind::Delivery, Some(1.0), &tariff("bands:10=500"), now()).unwrap();
        assert_eq!(amounts(&totals), ["3000", "225", "500", "3275"]);
    }

    #[test]
    fn refuses_absurd_baskets() {
        let big = catalog(&[("GOLD", "1000000000", "EUR")]);
        let err = price_basket(&basket(&[("GOLD", 2)]), &big, None, FulfilmentKind::Pickup, None, &tariff("flat:0"), now()).unwrap_err();
        assert_eq!(err, PricingError::BasketTooLarge);
        assert!(price_basket(&basket(&[("GOLD", 1)]), &big, None, FulfilmentKind::Pickup, None, &tariff("flat:0"), now()).is_ok());
        let err = price_basket(&basket(&[("GOLD", 1)]), &big, None, FulfilmentKind::Delivery, None, &tariff("flat:0.01"), now()).unwrap_err();
        assert_eq!(err, PricingError::BasketTooLarge, "the grand total is stored as money too");
    }

    #[test]
    fn parses_tariffs() {
        assert_eq!(tariff("flat:4.95"), DeliveryTariff { rate: DeliveryRate::Flat(dec("4.95")), free_from: None });
        assert_eq!(tariff(" flat: 0 ; free_from = 50 ").free_from, Some(dec("50")));
        let t: DeliveryTariff = "bands:5=2.95, 20=4.95,100=7.95;free_from=100".parse().unwrap();
        assert_eq!(
            t.rate,
            DeliveryRate::Bands(vec![
                DeliveryBand { up_to_km: dec("5"), charge: dec("2.95") },
                DeliveryBand { up_to_km: dec("20"), charge: dec("4.95") },
                DeliveryBand { up_to_km: dec("100"), charge: dec("7.95") },
            ])
        );
        let bad = [
            "", "flat", "flat:", "flat:-1", "flat:abc", "free:1", "bands:", "bands:5", "bands:5=x", "bands:0=1",
            "bands:20=4.95,5=2.95", "bands:5=1,5=2", "flat:1;free_from=", "flat:1;free_from=1;free_from=2",
            "flat:1;min=3", "bands:-5=1",
        ];
        for config in bad {
            assert!(DeliveryTariff::parse(config).is_err(), "{config:?}");
        }
        let many = (1..=33).map(|km| format!("{km}=1")).collect::<Vec<_>>().join(",");
        assert!(DeliveryTariff::parse(&format!("bands:{many}")).is_err());
        let err = DeliveryTariff::parse("bands:20=4.95,5=2.95").unwrap_err();
        assert_eq!(err.part, "5=2.95");
    }
}
