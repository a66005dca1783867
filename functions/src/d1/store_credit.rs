//! Store credit balances (`store_credit_balances`, one row per customer and currency,
//! never below zero) and what orders spent of them (`store_credit_spent`). Every
//! movement is a statement in the batch of the write that causes it: a refund to store
//! credit issues, an order spends, the order's cancellation gives back.

use crate::http::error::ApiResult;
use omniedge::pricing::in_minor_units;
use omniedge::sales::placement::Order;
use omniedge::shared::ids::CustomerId;
use omniedge::shared::money::{Currency, Money};
use omniedge::workflows::ports::Unavailable;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// Balances are kept in ten-thousandths of the currency unit: every amount we accept has
/// at most four decimals, so they are exact integers for SQLite.
const SCALE: u32 = 4;

fn e4(money: &Money) -> ApiResult<JsValue> {
    let units = (money.amount * Decimal::from(10_i64.pow(SCALE))).to_i64();
    // Amounts are bounded far below 2^53, so the number crosses into JavaScript exactly.
    Ok(JsValue::from(units.ok_or_else(|| Unavailable("store credit amount out of range".into()))? as f64))
}

/// The statement that adds `credit` to `customer`'s balance, if `order` is at `revision`
/// when it runs (a refund is written with the order it refunds).
pub fn issue(db: &D1Database, customer: &CustomerId, credit: &Money, order: &str, revision: &str) -> ApiResult<D1PreparedStatement> {
    Ok(db
        .prepare(
            "INSERT INTO store_credit_balances (customer_id, currency, balance_e4) SELECT ?1, ?2, ?3 WHERE (SELECT revision FROM orders WHERE id = ?4) = ?5
             ON CONFLICT (customer_id, currency) DO UPDATE SET balance_e4 = balance_e4 + excluded.balance_e4",
        )
        .bind(&[customer.as_str().into(), credit.currency.as_str().into(), e4(credit)?, order.into(), revision.into()])?)
}

/// The statements that spend what a new order spends of its customer's credit, if the
/// order was written: the batch fails (nothing is written) when the balance is short.
pub fn spend(db: &D1Database, order: &Order, now: &str) -> ApiResult<Vec<D1PreparedStatement>> {
    let (Some(credit), Some(customer)) = (&order.store_credit, &order.customer_id) else { return Ok(Vec::new()) };
    let binds = [order.id.as_str().into(), customer.as_str().into(), credit.applied.currency.as_str().into(), e4(&credit.applied)?, now.into()];
    Ok(vec![
        db.prepare(
            "INSERT INTO store_credit_spent (order_id, customer_id, currency, amount_e4, balance_before_e4, spent_at)
             SELECT ?1, ?2, ?3, ?4, (SELECT balance_e4 FROM store_credit_balances WHERE customer_id = ?2 AND currency = ?3), ?5
             WHERE EXISTS (SELECT 1 FROM orders WHERE id = ?1)",
        )
        .bind(&binds)?,
        db.prepare(
            "UPDATE store_credit_balances SET balance_e4 = balance_e4 - ?4
             WHERE customer_id = ?2 AND currency = ?3 AND EXISTS (SELECT 1 FROM store_credit_spent WHERE order_id = ?1 AND spent_at = ?5)",
        )
        .bind(&binds)?,
    ])
}

/// The statements that give back what a cancelled order spent, once, if the order is at
/// `revision` when they run.
pub fn give_back(db: &D1Database, order: &Order, revision: &str, now: &str) -> ApiResult<Vec<D1PreparedStatement>> {
    if order.store_credit.is_none() {
        return Ok(Vec::new());
    }
    let binds = [order.id.as_str().into(), revision.into(), now.into()];
    let at_revision = "(SELECT revision FROM orders WHERE id = ?1) = ?2";
    Ok(vec![
        db.prepare(format!(
            "UPDATE store_credit_balances SET balance_e4 = balance_e4 + (SELECT amount_e4 FROM store_credit_spent WHERE order_id = ?1)
             WHERE (customer_id, currency) = (SELECT customer_id, currency FROM store_credit_spent WHERE order_id = ?1 AND given_back_at IS NULL)
               AND {at_revision}"
        ))
        .bind(&binds[..2])?,
        db.prepare(format!("UPDATE store_credit_spent SET given_back_at = ?3 WHERE order_id = ?1 AND given_back_at IS NULL AND {at_revision}"))
            .bind(&binds)?,
    ])
}

/// A customer's store credit balance per currency.
pub async fn balances(db: &D1Database, customer: &CustomerId) -> ApiResult<Vec<Money>> {
    #[derive(Deserialize)]
    struct Row {
        currency: String,
        balance_e4: i64,
    }
    let rows: Vec<Row> = db
        .prepare("SELECT currency, balance_e4 FROM store_credit_balances WHERE customer_id = ?1 ORDER BY currency")
        .bind(&[customer.as_str().into()])?
        .all()
        .await?
        .results()?;
    rows.into_iter()
        .map(|row| {
            let currency = Currency::parse(&row.currency).map_err(|e| Unavailable(e.to_string()))?;
            Ok(in_minor_units(Decimal::new(row.balance_e4, SCALE), currency))
        })
        .collect()
}

/// `customer`'s balance in `currency` (zero without one).
pub async fn balance(db: &D1Database, customer: &CustomerId, currency: Currency) -> ApiResult<Money> {
    let all = balances(db, customer).await?;
    Ok(all.into_iter().find(|b| b.currency == currency).unwrap_or_else(|| in_minor_units(Decimal::ZERO, currency)))
}
