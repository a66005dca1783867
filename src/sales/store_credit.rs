//! Store credit spent at checkout, in any channel: how much of an order's grand total the
//! customer's store credit pays, and what is left to pay by the order's payment terms.
//! Credit is issued by refunds (`returns`); the balance it is spent from lives in D1,
//! where the order's own write takes it, so two checkouts never spend the same credit.

use crate::pricing::{in_minor_units, OrderTotals};
use crate::shared::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The store credit an order spends, and what remains to pay by its payment terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditApplied {
    pub applied: Money,
    pub balance_due: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreCreditError {
    #[error("store credit is spent by a named customer: send customer_id, or order a cart that has one")]
    NoCustomer,
    #[error("store credit to spend must be more than zero, in whole minor units of {0}")]
    InvalidAmount(Currency),
    #[error("store credit in {asked} cannot pay an order in {order}")]
    OtherCurrency { asked: Currency, order: Currency },
    #[error("store credit of {asked} is more than the order's grand total of {total}")]
    MoreThanTotal { asked: Decimal, total: Decimal },
}

/// Applies `asked` store credit to an order's totals: it must be in the order's currency,
/// a positive amount in the currency's minor units, and at most the grand total.
pub fn apply(asked: &Money, totals: &OrderTotals) -> Result<CreditApplied, StoreCreditError> {
    let total = &totals.grand_total;
    if asked.currency != total.currency {
        return Err(StoreCreditError::OtherCurrency { asked: asked.currency, order: total.currency });
    }
    let applied = in_minor_units(asked.amount, asked.currency);
    if asked.amount.is_zero() || applied.amount != asked.amount {
        return Err(StoreCreditError::InvalidAmount(asked.currency));
    }
    if applied.amount > total.amount {
        return Err(StoreCreditError::MoreThanTotal { asked: applied.amount, total: total.amount });
    }
    let balance_due = in_minor_units(total.amount - applied.amount, total.currency);
    Ok(CreditApplied { applied, balance_due })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: &str) -> Money {
        Money::parse(amount, "EUR").unwrap()
    }

    fn totals(grand: &str) -> OrderTotals {
        OrderTotals { subtotal: eur(grand), discount: eur("0.00"), delivery_charge: eur("0.00"), grand_total: eur(grand) }
    }

    #[test]
    fn credit_pays_part_or_all_of_the_total() {
        let part = apply(&eur("10"), &totals("89.95")).unwrap();
        assert_eq!((part.applied, part.balance_due), (eur("10.00"), eur("79.95")));
        let all = apply(&eur("89.95"), &totals("89.95")).unwrap();
        assert_eq!(all.balance_due, eur("0.00"));
    }

    #[test]
    fn credit_is_refused_beyond_the_total_in_another_currency_or_below_a_cent() {
        assert_eq!(
            apply(&eur("90"), &totals("89.95")),
            Err(StoreCreditError::MoreThanTotal { asked: Decimal::new(9000, 2), total: Decimal::new(8995, 2) })
        );
        let usd = Money::parse("5", "USD").unwrap();
        assert!(matches!(apply(&usd, &totals("89.95")), Err(StoreCreditError::OtherCurrency { .. })));
        assert_eq!(apply(&eur("0.005"), &totals("89.95")), Err(StoreCreditError::InvalidAmount(eur("1").currency)));
        assert_eq!(apply(&eur("0"), &totals("89.95")), Err(StoreCreditError::InvalidAmount(eur("1").currency)));
    }
}
