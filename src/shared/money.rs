//! Money as the storefront sees it: a decimal amount string and an ISO 4217
//! currency code. Amounts are `rust_decimal::Decimal`, never floats.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidMoney {
    #[error("currency must be a three-letter ISO 4217 code such as \"EUR\", got {0:?}")]
    Currency(String),
    #[error("amount must be a decimal string with at most {max} decimal places and not negative, got {got:?}")]
    Amount { max: u32, got: String },
}

/// An ISO 4217 alphabetic currency code (three upper-case letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, InvalidMoney> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(InvalidMoney::Currency(code.chars().take(16).collect())),
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ascii upper-case letters")
    }
}
impl TryFrom<String> for Currency {
    type Error = InvalidMoney;
    fn try_from(s: String) -> Result<Self, InvalidMoney> {
        Currency::parse(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Most decimal places a price may carry.
pub const MAX_SCALE: u32 = 4;
/// Largest amount accepted for one price (guards against absurd input).
const MAX_AMOUNT: i64 = 1_000_000_000;

/// A non-negative amount in one currency, e.g. `{"amount": "89.95", "currency": "EUR"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[serde(deserialize_with = "amount_from_str")]
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn parse(amount: &str, currency: &str) -> Result<Self, InvalidMoney> {
        Ok(Money { amount: parse_amount(amount)?, currency: Currency::parse(currency)? })
    }
}

/// Parses a price amount: a plain decimal string, not negative, bounded scale and size.
pub fn parse_amount(text: &str) -> Result<Decimal, InvalidMoney> {
    let bad = || InvalidMoney::Amount { max: MAX_SCALE, got: text.chars().take(32).collect() };
    let plain = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|&b| b == b'.').count() <= 1
        && !text.starts_with('.')
        && !text.ends_with('.');
    if !plain {
        return Err(bad());
    }
    let value: Decimal = text.parse().map_err(|_| bad())?;
    if value.scale() > MAX_SCALE || value > Decimal::from(MAX_AMOUNT) {
        return Err(bad());
    }
    Ok(value)
}

fn amount_from_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let text = String::deserialize(d)?;
    parse_amount(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prices_exactly() {
        let m = Money::parse("89.95", "EUR").unwrap();
        assert_eq!(m.amount.to_string(), "89.95");
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"amount":"89.95","currency":"EUR"}"#);
    }

    #[test]
    fn leading_zeros_and_the_largest_amount_are_accepted() {
        assert_eq!(parse_amount(&format!("{}1.5", "0".repeat(60))).unwrap().to_string(), "1.5");
        assert_eq!(parse_amount("1000000000.0000").unwrap(), Decimal::from(1_000_000_000));
        assert_eq!(parse_amount("0.0000").unwrap(), Decimal::ZERO);
    }

    #[test]
    fn refuses_bad_money() {
        for amount in ["-1", "1e3", "", ".5", "5.", "1.23456", "12,5", "99999999999"] {
            assert!(parse_amount(amount).is_err(), "{amount}");
        }
        assert!(parse_amount("1000000000.0001").is_err());
        assert!(parse_amount(&format!("1.{}", "0".repeat(40))).is_err(), "more decimals than Decimal keeps");
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":19.99,"currency":"EUR"}"#).is_err());
    }
}
