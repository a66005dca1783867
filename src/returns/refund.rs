//! What a return gives back: what the shopper actually paid for those units. The
//! order's discount is spread over its lines in proportion to their totals, and each
//! line's share over its units, in minor units with the remainders handed out one by
//! one, so the parts always add up exactly to what was paid and every return of an
//! order takes the next units' shares: the sum over all returns never exceeds it.
//! Where the money goes (`payout`): the original payment gets back at most what it paid,
//! and what store credit paid comes back as store credit.

use crate::pricing::minor_units;
use crate::sales::placement::Order;
use crate::shared::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// An amount in the currency's minor units (cents for EUR).
fn to_minor(amount: Decimal, currency: Currency) -> i128 {
    (amount * Decimal::from(10i64.pow(minor_units(currency)))).trunc().to_i128().unwrap_or(0)
}

pub(crate) fn from_minor(minor: i128, currency: Currency) -> Decimal {
    Decimal::from_i128_with_scale(minor, minor_units(currency))
}

/// Splits `total` over parts in proportion to `weights`, largest remainders first
/// (earlier parts win ties): the parts add up to `total` exactly.
fn spread(total: i128, weights: &[i128]) -> Vec<i128> {
    let sum: i128 = weights.iter().sum();
    if sum <= 0 {
        return vec![0; weights.len()];
    }
    let mut parts: Vec<i128> = weights.iter().map(|w| total * w / sum).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(total * weights[i] % sum));
    let left = total - parts.iter().sum::<i128>();
    for &i in order.iter().cycle().take(usize::try_from(left).unwrap_or(0)) {
        parts[i] += 1;
    }
    parts
}

/// What the shopper paid for each unit of each order line, in minor units, after the
/// order's discount (line by line, unit by unit, in order).
pub fn unit_prices_paid(order: &Order) -> Vec<Vec<i128>> {
    let currency = order.totals.subtotal.currency;
    let totals: Vec<i128> = order.lines.iter().map(|l| to_minor(l.line_total.amount, currency)).collect();
    let discounts = spread(to_minor(order.totals.discount.amount, currency), &totals);
    totals
        .iter()
        .zip(discounts)
        .zip(&order.lines)
        .map(|((total, discount), line)| spread((total - discount).max(0), &vec![1; line.quantity.get() as usize]))
        .collect()
}

/// The delivery charge in minor units.
pub fn delivery_paid(order: &Order) -> i128 {
    to_minor(order.totals.delivery_charge.amount, order.totals.delivery_charge.currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreading_adds_up_exactly() {
        assert_eq!(spread(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(spread(1000, &[8995, 2995, 1495]).iter().sum::<i128>(), 1000);
        assert_eq!(spread(5, &[0, 0]), vec![0, 0]);
        assert_eq!(spread(0, &[3, 4]), vec![0, 0]);
    }
}

/// Where a refund's money went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub original_payment: Money,
    pub store_credit: Money,
}

/// Splits a refund of `total`: asked to the original payment, it gets at most what that
/// payment still covers (`paid_by_payment`, the order's total less the store credit it
/// spent, less `refunded_to_payment` by earlier returns) and the rest is store credit;
/// asked as store credit, all of it is.
pub fn payout(total: &Money, to_payment: bool, paid_by_payment: &Money, refunded_to_payment: Decimal) -> Payout {
    let covered = if to_payment { (paid_by_payment.amount - refunded_to_payment).max(Decimal::ZERO).min(total.amount) } else { Decimal::ZERO };
    let money = |amount: Decimal| {
        let mut amount = amount;
        amount.rescale(minor_units(total.currency));
        Money { amount, currency: total.currency }
    };
    Payout { original_payment: money(covered), store_credit: money(total.amount - covered) }
}
