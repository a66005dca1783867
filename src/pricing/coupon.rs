//! Coupons: a percentage or a fixed amount off the basket, valid in every channel,
//! with an optional minimum basket, expiry and number of uses (1: single-use).
//! Whether a coupon applies is decided here; the discount itself is priced in `pricing`.

use crate::shared::money::{parse_amount, Currency, Money};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Shortest and longest coupon code.
pub const CODE_LENGTH: std::ops::RangeInclusive<usize> = 3..=32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("coupon code must be 3 to 32 characters of A-Z, 0-9 or '-' (any case), got {0:?}")]
pub struct InvalidCouponCode(pub String);

/// A coupon code as shoppers type it, in any case: stored upper-case, so `summer-10`
/// and `SUMMER-10` are the same coupon. Surrounding spaces are ignored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CouponCode(String);

impl CouponCode {
    pub fn parse(text: &str) -> Result<Self, InvalidCouponCode> {
        let code = text.trim().to_ascii_uppercase();
        let ok = CODE_LENGTH.contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(CouponCode(code))
        } else {
            Err(InvalidCouponCode(text.chars().take(40).collect()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for CouponCode {
    type Error = InvalidCouponCode;
    fn try_from(text: String) -> Result<Self, InvalidCouponCode> {
        CouponCode::parse(&text)
    }
}
impl From<CouponCode> for String {
    fn from(code: CouponCode) -> String {
        code.0
    }
}
impl fmt::Display for CouponCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a coupon takes off: a percentage of the basket (more than 0, at most 100) or
/// a fixed amount in one currency (more than 0). On the wire it is flat:
/// `"kind":"percent","percent":"10"` or `"kind":"fixed_amount","amount":{..Money}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "KindWire", try_from = "KindWire")]
pub enum CouponKind {
    Percent(Decimal),
    FixedAmount(Money),
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum KindWire {
    Percent {
        #[serde(deserialize_with = "percent_from_str")]
        percent: Decimal,
    },
    FixedAmount {
        amount: Money,
    },
}

impl From<CouponKind> for KindWire {
    fn from(kind: CouponKind) -> Self {
        match kind {
            CouponKind::Percent(percent) => KindWire::Percent { percent },
            CouponKind::FixedAmount(amount) => KindWire::FixedAmount { amount },
        }
    }
}
impl TryFrom<KindWire> for CouponKind {
    type Error = InvalidCoupon;
    fn try_from(wire: KindWire) -> Result<Self, InvalidCoupon> {
        match wire {
            KindWire::Percent { percent } => CouponKind::percent(percent),
            KindWire::FixedAmount { amount } => CouponKind::fixed_amount(amount),
        }
    }
}

impl CouponKind {
    pub fn percent(percent: Decimal) -> Result<Self, InvalidCoupon> {
        if percent > Decimal::ZERO && percent <= Decimal::ONE_HUNDRED {
            Ok(CouponKind::Percent(percent))
        } else {
            Err(InvalidCoupon::Percent(percent.to_string()))
        }
    }
    pub fn fixed_amount(amount: Money) -> Result<Self, InvalidCoupon> {
        if amount.amount > Decimal::ZERO {
            Ok(CouponKind::FixedAmount(amount))
        } else {
            Err(InvalidCoupon::ZeroAmount)
        }
    }
}

/// Why a coupon definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCoupon {
    #[error("percent must be a decimal string greater than 0 and at most 100, such as \"10\", got {0:?}")]
    Percent(String),
    #[error("a fixed amount coupon must take off more than 0")]
    ZeroAmount,
    #[error("kind {kind:?} needs {needs:?} and must not have {refuses:?}")]
    KindFields { kind: &'static str, needs: &'static str, refuses: &'static str },
    #[error("minimum_basket is in {minimum}, the coupon's amount in {amount}: they must be the same currency")]
    CurrencyMismatch { amount: Currency, minimum: Currency },
    #[error("max_redemptions must be at least 1 (1: single-use); leave it out for unlimited uses")]
    NoRedemptions,
}

fn percent_from_str<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let text = String::deserialize(d)?;
    let percent = parse_amount(&text).map_err(|_| InvalidCoupon::Percent(text.chars().take(32).collect()));
    percent
        .and_then(|p| CouponKind::percent(p).map(|_| p))
        .map_err(serde::de::Error::custom)
}

/// A coupon as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    pub code: CouponCode,
    #[serde(flatten)]
    pub kind: CouponKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_basket: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// How many orders may use it (1: single-use); `None`: unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_redemptions: Option<u32>,
    /// How many orders have used it.
    #[serde(default)]
    pub redeemed: u32,
}

/// What a back-office system sends to create or replace a coupon (the code is in the path):
/// `{"kind":"percent","percent":"10","minimum_basket":{"amount":"50.00","currency":"EUR"},
/// "expires_at":"2026-12-31T23:59:59Z","max_redemptions":1}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawDraft")]
pub struct CouponDraft {
    pub kind: CouponKind,
    pub minimum_basket: Option<Money>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_redemptions: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindTag {
    Percent,
    FixedAmount,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDraft {
    kind: KindTag,
    #[serde(default, deserialize_with = "optional_percent")]
    percent: Option<Decimal>,
    #[serde(default)]
    amount: Option<Money>,
    #[serde(default)]
    minimum_basket: Option<Money>,
    #[serde(default, deserialize_with = "optional_rfc3339")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    max_redemptions: Option<u32>,
}

/// An RFC 3339 timestamp, strictly (`2026-12-31T23:59:59Z`, `...+02:00`): no other
/// offset forms, years of four digits, no leap second.
fn optional_rfc3339<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .ok()
        .filter(|at| at.timestamp_subsec_nanos() < 1_000_000_000)
        .map(|at| Some(at.with_timezone(&Utc)))
        .ok_or_else(|| serde::de::Error::custom("expires_at must be an RFC 3339 timestamp such as \"2026-12-31T23:59:59Z\""))
}

fn optional_percent<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    percent_from_str(d).map(Some)
}

impl TryFrom<RawDraft> for CouponDraft {
    type Error = InvalidCoupon;
    fn try_from(raw: RawDraft) -> Result<Self, InvalidCoupon> {
        let kind = match (raw.kind, raw.percent, raw.amount) {
            (KindTag::Percent, Some(percent), None) => CouponKind::percent(percent)?,
            (KindTag::FixedAmount, None, Some(amount)) => CouponKind::fixed_amount(amount)?,
            (KindTag::Percent, _, _) => {
                return Err(InvalidCoupon::KindFields { kind: "percent", needs: "percent", refuses: "amount" })
            }
            (KindTag::FixedAmount, _, _) => {
                return Err(InvalidCoupon::KindFields { kind: "fixed_amount", needs: "amount", refuses: "percent" })
            }
        };
        if let (CouponKind::FixedAmount(amount), Some(minimum)) = (&kind, &raw.minimum_basket) {
            if amount.currency != minimum.currency {
                return Err(InvalidCoupon::CurrencyMismatch { amount: amount.currency, minimum: minimum.currency });
            }
        }
        if raw.max_redemptions == Some(0) {
            return Err(InvalidCoupon::NoRedemptions);
        }
        Ok(CouponDraft { kind, minimum_basket: raw.minimum_basket, expires_at: raw.expires_at, max_redemptions: raw.max_redemptions })
    }
}

/// Why a coupon does not apply to a basket now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponError {
    #[error("coupon {code} expired at {expired_at}")]
    Expired { code: CouponCode, expired_at: DateTime<Utc> },
    #[error("coupon {code} needs a basket of at least {} {}, the basket is {} {}", minimum.amount, minimum.currency, subtotal.amount, subtotal.currency)]
    BelowMinimum { code: CouponCode, minimum: Money, subtotal: Money },
    #[error("coupon {code} was already used {max_redemptions} time(s), as often as it may be")]
    UsedUp { code: CouponCode, max_redemptions: u32 },
    #[error("coupon {code} is in {coupon}, the basket in {basket}")]
    CurrencyMismatch { code: CouponCode, coupon: Currency, basket: Currency },
}

impl Coupon {
    pub fn from_draft(code: CouponCode, draft: CouponDraft) -> Self {
        Coupon {
            code,
            kind: draft.kind,
            minimum_basket: draft.minimum_basket,
            expires_at: draft.expires_at,
            max_redemptions: draft.max_redemptions,
            redeemed: 0,
        }
    }

    /// The coupon with a new definition; its code and redemption count stay.
    pub fn revised(self, draft: CouponDraft) -> Self {
        Coupon { redeemed: self.redeemed, ..Coupon::from_draft(self.code, draft) }
    }

    /// Uses left, or `None` when unlimited.
    pub fn remaining(&self) -> Option<u32> {
        self.max_redemptions.map(|max| max.saturating_sub(self.redeemed))
    }

    /// The currency the coupon is bound to, if any (a fixed amount or a minimum basket).
    pub fn currency(&self) -> Option<Currency> {
        match (&self.kind, &self.minimum_basket) {
            (CouponKind::FixedAmount(amount), _) => Some(amount.currency),
            (CouponKind::Percent(_), minimum) => minimum.as_ref().map(|m| m.currency),
        }
    }

    /// Whether the coupon applies to a basket with this subtotal at `now`.
    pub fn check(&self, subtotal: &Money, now: DateTime<Utc>) -> Result<(), CouponError> {
        let code = || self.code.clone();
        if let Some(expired_at) = self.expires_at.filter(|&at| now >= at) {
            return Err(CouponError::Expired { code: code(), expired_at });
        }
        if let Some(max_redemptions) = self.max_redemptions.filter(|&max| self.redeemed >= max) {
            return Err(CouponError::UsedUp { code: code(), max_redemptions });
        }
        if let Some(coupon) = self.currency().filter(|&c| c != subtotal.currency) {
            return Err(CouponError::CurrencyMismatch { code: code(), coupon, basket: subtotal.currency });
        }
        match &self.minimum_basket {
            Some(minimum) if subtotal.amount < minimum.amount => {
                Err(CouponError::BelowMinimum { code: code(), minimum: minimum.clone(), subtotal: subtotal.clone() })
            }
            _ => Ok(()),
        }
    }

    /// Checks and counts one use, for the one writer that owns the coupon; returns the
    /// uses so far. A single-use coupon redeemed once is refused from then on.
    pub fn redeem(&mut self, subtotal: &Money, now: DateTime<Utc>) -> Result<u32, CouponError> {
        self.check(subtotal, now)?;
        self.redeemed = self.redeemed.saturating_add(1);
        Ok(self.redeemed)
    }

    /// Gives back one use (an order that redeemed it was never written).
    pub fn release_redemption(&mut self) {
        self.redeemed = self.redeemed.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2026-06-{day:02}T12:00:00Z")).unwrap().with_timezone(&Utc)
    }
    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }
    fn draft(json: &str) -> Result<CouponDraft, serde_json::Error> {
        serde_json::from_str(json)
    }
    fn coupon(json: &str) -> Coupon {
        Coupon::from_draft(CouponCode::parse("SUMMER-10").unwrap(), draft(json).unwrap())
    }

    #[test]
    fn codes_are_case_insensitive() {
        assert_eq!(CouponCode::parse("summer-10").unwrap(), CouponCode::parse("SUMMER-10").unwrap());
        assert_eq!(CouponCode::parse(" welcome5 ").unwrap().as_str(), "WELCOME5");
        for bad in ["AB", "", "SUMMER 10", "SUMMER_10", "ÄPFEL", &"X".repeat(33)] {
            assert!(CouponCode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(CouponCode::parse(&"x".repeat(32)).unwrap().as_str().len(), 32);
        assert_eq!(serde_json::from_str::<CouponCode>("\"abc\"").unwrap().as_str(), "ABC");
        assert!(serde_json::from_str::<CouponCode>("\"a/b\"").is_err());
    }

    #[test]
    fn parses_percent_and_fixed_amount_drafts() {
        let d = draft(r#"{"kind":"percent","percent":"12.5","expires_at":"2026-06-30T23:59:59+02:00","max_redemptions":1}"#).unwrap();
        assert_eq!(d.kind, CouponKind::Percent(Decimal::new(125, 1)));
        assert_eq!(d.expires_at.unwrap().to_rfc3339(), "2026-06-30T21:59:59+00:00");
        assert_eq!(d.max_redemptions, Some(1));
        let d = draft(r#"{"kind":"fixed_amount","amount":{"amount":"5.00","currency":"EUR"},"minimum_basket":{"amount":"25","currency":"EUR"}}"#).unwrap();
        assert_eq!(d.kind, CouponKind::FixedAmount(eur("5.00")));
        assert_eq!(d.minimum_basket, Some(eur("25")));
        assert_eq!(draft(r#"{"kind":"percent","percent":"100"}"#).unwrap().kind, CouponKind::Percent(Decimal::ONE_HUNDRED));
    }

    #[test]
    fn refuses_bad_drafts() {
        let bad = [
            r#"{"kind":"percent"}"#,
            r#"{"kind":"percent","percent":"0"}"#,
            r#"{"kind":"percent","percent":"100.01"}"#,
            r#"{"kind":"percent","percent":"-5"}"#,
            r#"{"kind":"percent","percent":10}"#,
            r#"{"kind":"percent","percent":"10","amount":{"amount":"5","currency":"EUR"}}"#,
            r#"{"kind":"fixed_amount","percent":"10"}"#,
            r#"{"kind":"fixed_amount","amount":{"amount":"0","currency":"EUR"}}"#,
            r#"{"kind":"fixed_amount","amount":{"amount":"5","currency":"EUR"},"minimum_basket":{"amount":"20","currency":"USD"}}"#,
            r#"{"kind":"percent","percent":"10","max_redemptions":0}"#,
            r#"{"kind":"percent","percent":"10","max_redemptions":-1}"#,
            r#"{"kind":"percent","percent":"10","expires_at":"next week"}"#,
            r#"{"kind":"percent","percent":"10","expires_at":"2026-12-31T23:59:60Z"}"#,
            r#"{"kind":"percent","percent":"10","expires_at":"2026-12-31T23:59:59+0100"}"#,
            r#"{"kind":"percent","percent":"10","expires_at":"+2026-12-31T23:59:59Z"}"#,
            r#"{"kind":"percent","percent":"10","expires_at":"2026-1-31T23:59:59Z"}"#,
            r#"{"kind":"percent","percent":"10","expires_at":"2026-12-31T23:59:59 +01:00"}"#,
            r#"{"kind":"percent","percent":"10","code":"X"}"#,
            r#"{"kind":"bogo"}"#,
        ];
        for json in bad {
            assert!(draft(json).is_err(), "{json}");
        }
    }

    #[test]
    fn stored_coupons_serialize_flat_and_back() {
        let c = coupon(r#"{"kind":"percent","percent":"10","max_redemptions":3}"#);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v, serde_json::json!({"code":"SUMMER-10","kind":"percent","percent":"10","max_redemptions":3,"redeemed":0}));
        assert_eq!(serde_json::from_value::<Coupon>(v).unwrap(), c);
        let c = coupon(r#"{"kind":"fixed_amount","amount":{"amount":"5.00","currency":"EUR"},"expires_at":"2026-06-30T00:00:00Z"}"#);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["amount"], serde_json::json!({"amount":"5.00","currency":"EUR"}));
        assert_eq!(serde_json::from_value::<Coupon>(v).unwrap(), c);
    }

    #[test]
    fn checks_expiry_uses_currency_and_minimum() {
        let c = coupon(r#"{"kind":"percent","percent":"10","minimum_basket":{"amount":"50.00","currency":"EUR"},"expires_at":"2026-06-15T00:00:00Z"}"#);
        assert_eq!(c.check(&eur("50.00"), at(14)), Ok(()));
        assert!(matches!(c.check(&eur("49.99"), at(14)), Err(CouponError::BelowMinimum { ref minimum, .. }) if *minimum == eur("50.00")));
        assert!(matches!(c.check(&eur("80"), at(15)), Err(CouponError::Expired { .. })));
        let usd = Money::parse("80", "USD").unwrap();
        assert!(matches!(c.check(&usd, at(14)), Err(CouponError::CurrencyMismatch { basket, .. }) if basket.as_str() == "USD"));
    }

    #[test]
    fn a_percent_coupon_without_minimum_fits_every_currency() {
        let c = coupon(r#"{"kind":"percent","percent":"10"}"#);
        assert_eq!(c.currency(), None);
        assert!(c.check(&Money::parse("1", "JPY").unwrap(), at(1)).is_ok());
        let fixed = coupon(r#"{"kind":"fixed_amount","amount":{"amount":"5","currency":"EUR"}}"#);
        assert!(matches!(fixed.check(&Money::parse("20", "GBP").unwrap(), at(1)), Err(CouponError::CurrencyMismatch { .. })));
    }

    #[test]
    fn a_single_use_coupon_is_redeemed_once() {
        let mut c = coupon(r#"{"kind":"fixed_amount","amount":{"amount":"5","currency":"EUR"},"max_redemptions":1}"#);
        assert_eq!(c.remaining(), Some(1));
        assert_eq!(c.redeem(&eur("20"), at(1)), Ok(1));
        assert_eq!(c.remaining(), Some(0));
        assert!(matches!(c.redeem(&eur("20"), at(1)), Err(CouponError::UsedUp { max_redemptions: 1, .. })));
        assert_eq!(c.redeemed, 1);
        c.release_redemption();
        assert_eq!(c.redeem(&eur("20"), at(1)), Ok(1));
        let unlimited = coupon(r#"{"kind":"percent","percent":"5"}"#);
        assert_eq!(unlimited.remaining(), None);
    }

    #[test]
    fn revising_keeps_code_and_uses() {
        let mut c = coupon(r#"{"kind":"percent","percent":"10","max_redemptions":2}"#);
        c.redeem(&eur("10"), at(1)).unwrap();
        let c = c.revised(draft(r#"{"kind":"percent","percent":"20","max_redemptions":5}"#).unwrap());
        assert_eq!((c.code.as_str(), c.redeemed, c.remaining()), ("SUMMER-10", 1, Some(4)));
        assert_eq!(c.kind, CouponKind::Percent(Decimal::from(20)));
    }
}
