//! The `orders` table (the Order document, the columns it is listed by, and its
//! revision), `order_locations` (which locations fulfil it) and `owed_effects` (what
//! each order still owes the Durable Objects; see `omniedge::workflows::effects`).

use super::documents;
use crate::http::error::ApiResult;
use omniedge::sales::placement::Order;
use omniedge::shared::ids::{CartId, CustomerId, LocationId, OrderId};
use omniedge::workflows::effects::{Effect, OwedEffect};
use omniedge::workflows::ports::StoredOrder;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

fn stamp(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The statements that write a new order at `revision`, if the placement still owns its
/// Idempotency-Key claim (`claim`: scope, key, owner); run them in one batch.
pub fn insert(db: &D1Database, order: &Order, revision: &str, claim: [&str; 3]) -> ApiResult<Vec<D1PreparedStatement>> {
    let customer = order.customer_id.as_ref().map_or(JsValue::NULL, |c| c.as_str().into());
    let pickup = match &order.fulfilment {
        omniedge::sales::fulfilment::FulfilmentRequest::Pickup { location_id } => JsValue::from(location_id.as_str()),
        _ => JsValue::NULL,
    };
    let placed = stamp(&order.placed_at);
    let mut statements = vec![db
        .prepare(
            format!(
                "INSERT INTO orders (id, customer_id, cart_id, channel, status, pickup_location_id, body, created_at, updated_at, revision)
                 SELECT ?1, ?2, ?8, ?3, ?4, ?5, ?6, ?7, ?7, ?9 WHERE {}",
                super::idempotency::still_owned(10, 11, 12)
            ),
        )
        .bind(&[
            order.id.as_str().into(),
            customer,
            order.origin.channel().as_str().into(),
            order.status.as_str().into(),
            pickup,
            serde_json::to_string(order)?.into(),
            placed.into(),
            order.cart_id.as_ref().map_or(JsValue::NULL, |c| c.as_str().into()),
            revision.into(),
            claim[0].into(),
            claim[1].into(),
            claim[2].into(),
        ])?];
    // Only the batch that inserted the order (at its revision) lists its locations: a
    // losing writer of the same order id (two racing receipts of one return) adds nothing.
    for location in order.locations() {
        statements.push(
            db.prepare("INSERT INTO order_locations (order_id, location_id) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM orders WHERE id = ?1 AND revision = ?3)")
                .bind(&[order.id.as_str().into(), location.as_str().into(), revision.into()])?,
        );
    }
    Ok(statements)
}

#[derive(Deserialize)]
struct Row {
    body: String,
    revision: String,
}

#[derive(Deserialize)]
struct OwedRow {
    seq: i64,
    effect: String,
}

/// An order with its revision and what it still owes, read in one round trip.
pub async fn get(db: &D1Database, id: &OrderId) -> ApiResult<Option<StoredOrder>> {
    stored(&db.batch(reads(db, id)?).await?)
}

/// The statements that read an order with its revision and what it owes (`stored` reads
/// their results); a batch may read more after them, consistently.
pub fn reads(db: &D1Database, id: &OrderId) -> ApiResult<Vec<D1PreparedStatement>> {
    reads_of(db, "?1", id.as_str())
}

/// `reads` of the order whose id is the SQL expression `order` over ?1 = `bind` (such as
/// a return's order: `(SELECT order_id FROM returns WHERE id = ?1)`).
pub fn reads_of(db: &D1Database, order: &str, bind: &str) -> ApiResult<Vec<D1PreparedStatement>> {
    Ok(vec![
        db.prepare(format!("SELECT body, revision FROM orders WHERE id = {order}")).bind(&[bind.into()])?,
        db.prepare(format!("SELECT seq, effect FROM owed_effects WHERE order_id = {order} ORDER BY seq")).bind(&[bind.into()])?,
    ])
}

/// The order read by the first two results of a batch that began with `reads`.
pub fn stored(results: &[worker::D1Result]) -> ApiResult<Option<StoredOrder>> {
    let (Some(order), Some(owed)) = (results.first(), results.get(1)) else { return Ok(None) };
    let Some(row) = order.results::<Row>()?.into_iter().next() else { return Ok(None) };
    let owed = owed
        .results::<OwedRow>()?
        .into_iter()
        .map(|r| Ok(OwedEffect { seq: r.seq, effect: serde_json::from_str(&r.effect)? }))
        .collect::<ApiResult<_>>()?;
    Ok(Some(StoredOrder { order: serde_json::from_str(&row.body)?, revision: row.revision, owed }))
}

/// The statements that record `effects` as owed by `order`, if the order is at
/// `revision` when they run (so a write that lost its race records nothing).
pub fn owe(db: &D1Database, order: &OrderId, revision: &str, effects: &[Effect], now: &str) -> ApiResult<Vec<D1PreparedStatement>> {
    effects
        .iter()
        .map(|effect| {
            Ok(db
                .prepare(
                    "INSERT INTO owed_effects (order_id, effect, created_at)
                     SELECT ?1, ?2, ?3 WHERE (SELECT revision FROM orders WHERE id = ?1) = ?4 RETURNING seq",
                )
                .bind(&[order.as_str().into(), serde_json::to_string(effect)?.into(), now.into(), revision.into()])?)
        })
        .collect()
}

/// The statement that moves an order to `revision` with its new status, unless it was
/// written since `read` (or, `settled_only`, still owes effects).
pub fn update(db: &D1Database, order: &Order, read: &str, revision: &str, settled_only: bool) -> ApiResult<D1PreparedStatement> {
    let guard = if settled_only { " AND NOT EXISTS (SELECT 1 FROM owed_effects WHERE order_id = ?1)" } else { "" };
    Ok(db
        .prepare(format!("UPDATE orders SET status = ?2, body = ?3, updated_at = ?4, revision = ?5 WHERE id = ?1 AND revision = ?6{guard}"))
        .bind(&[
            order.id.as_str().into(),
            order.status.as_str().into(),
            serde_json::to_string(order)?.into(),
            crate::http::now_rfc3339().into(),
            revision.into(),
            read.into(),
        ])?)
}

/// The statement that drops what an order owed, once it is at `revision`.
pub fn forgive(db: &D1Database, order: &OrderId, revision: &str) -> ApiResult<D1PreparedStatement> {
    Ok(db
        .prepare("DELETE FROM owed_effects WHERE order_id = ?1 AND (SELECT revision FROM orders WHERE id = ?1) = ?2")
        .bind(&[order.as_str().into(), revision.into()])?)
}

/// The statements a placement's claim runs with, while `claim` (scope, key, owner) is
/// still this placement's: the claim names `order`, and `owed` is recorded as what the
/// order owes should it never be written.
pub fn placing(db: &D1Database, order: &OrderId, owed: &[Effect], now: &str, claim: [&str; 3]) -> ApiResult<Vec<D1PreparedStatement>> {
    let [scope, key, owner] = claim;
    let mut statements = vec![db
        .prepare("UPDATE idempotency_records SET order_id = ?1 WHERE scope = ?2 AND key = ?3 AND owner = ?4 AND state = 'pending'")
        .bind(&[order.as_str().into(), scope.into(), key.into(), owner.into()])?];
    for effect in owed {
        statements.push(
            db.prepare(format!(
                "INSERT INTO owed_effects (order_id, effect, created_at) SELECT ?1, ?2, ?3 WHERE {}",
                super::idempotency::still_owned(4, 5, 6)
            ))
            .bind(&[order.as_str().into(), serde_json::to_string(effect)?.into(), now.into(), scope.into(), key.into(), owner.into()])?,
        );
    }
    Ok(statements)
}

/// Lets go of a refused placement's claim and of what its unwritten order owed.
pub async fn let_go(db: &D1Database, order: &OrderId, claim: [&str; 3]) -> ApiResult<()> {
    let [scope, key, owner] = claim;
    db.batch(vec![
        db.prepare("DELETE FROM idempotency_records WHERE scope = ?1 AND key = ?2 AND owner = ?3 AND state = 'pending'")
            .bind(&[scope.into(), key.into(), owner.into()])?,
        db.prepare("DELETE FROM owed_effects WHERE order_id = ?1 AND NOT EXISTS (SELECT 1 FROM orders WHERE id = ?1)").bind(&[order.as_str().into()])?,
    ])
    .await?;
    Ok(())
}

/// The owner a revoked claim gets: no placement owns it any more.
const REVOKED: &str = "revoked";

/// What an order never written owes, once its placement can no longer write it: its
/// claim names another order or none (taken over, let go), or was claimed at or before
/// `given_up_at` (then it is revoked first, in the same batch). `None` otherwise.
pub async fn unwritten(db: &D1Database, order: &OrderId, given_up_at: &str) -> ApiResult<Option<Vec<OwedEffect>>> {
    #[derive(Deserialize)]
    struct Claim {
        state: String,
        owner: String,
    }
    let id: JsValue = order.as_str().into();
    let results = db
        .batch(vec![
            db.prepare("UPDATE idempotency_records SET owner = ?3 WHERE order_id = ?1 AND state = 'pending' AND created_at <= ?2")
                .bind(&[id.clone(), given_up_at.into(), REVOKED.into()])?,
            db.prepare("SELECT state, owner FROM idempotency_records WHERE order_id = ?1").bind(std::slice::from_ref(&id))?,
            db.prepare("SELECT id FROM orders WHERE id = ?1").bind(std::slice::from_ref(&id))?,
            db.prepare("SELECT seq, effect FROM owed_effects WHERE order_id = ?1 ORDER BY seq").bind(&[id])?,
        ])
        .await?;
    let [_, claims, written, owed] = results.as_slice() else { return Ok(None) };
    let placing = claims.results::<Claim>()?.into_iter().any(|c| c.state != "pending" || c.owner != REVOKED);
    if placing || !written.results::<serde_json::Value>()?.is_empty() {
        return Ok(None);
    }
    let owed = owed.results::<OwedRow>()?.into_iter().map(|r| Ok(OwedEffect { seq: r.seq, effect: serde_json::from_str(&r.effect)? }));
    Ok(Some(owed.collect::<ApiResult<_>>()?))
}

/// Crosses off applied effects.
pub async fn settled(db: &D1Database, order: &OrderId, seqs: &[i64]) -> ApiResult<()> {
    db.prepare("DELETE FROM owed_effects WHERE order_id = ?1 AND seq IN (SELECT value FROM json_each(?2))")
        .bind(&[order.as_str().into(), serde_json::to_string(seqs)?.into()])?
        .run()
        .await?;
    Ok(())
}

/// Orders that owe effects, oldest debt first.
pub async fn owing(db: &D1Database, limit: u32) -> ApiResult<Vec<OrderId>> {
    Ok(debtors(db, Debtor::Order, limit).await?.iter().filter_map(|id| OrderId::parse(id).ok()).collect())
}

/// What owes effects in `owed_effects`: an order, or a cart (each row names one).
pub enum Debtor {
    Order,
    Cart,
}

/// The ids of up to `limit` debtors of one kind that owe effects, oldest debt first.
pub async fn debtors(db: &D1Database, kind: Debtor, limit: u32) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Row {
        id: String,
    }
    let column = match kind {
        Debtor::Order => "order_id",
        Debtor::Cart => "cart_id",
    };
    let rows: Vec<Row> = db
        .prepare(format!("SELECT {column} AS id FROM owed_effects WHERE {column} IS NOT NULL GROUP BY {column} ORDER BY MIN(seq) LIMIT ?1"))
        .bind(&[limit.into()])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Whether some order was placed from this cart.
pub async fn exists_for_cart(db: &D1Database, cart: &CartId) -> ApiResult<bool> {
    let row: Option<serde_json::Value> = db.prepare("SELECT 1 AS found FROM orders WHERE cart_id = ?1").bind(&[cart.as_str().into()])?.first(None).await?;
    Ok(row.is_some())
}

/// A customer's orders from every channel, newest first, after the cursor `(created_at, id)`.
pub async fn for_customer(db: &D1Database, customer: &CustomerId, limit: u32, after: Option<(String, String)>) -> ApiResult<Vec<Order>> {
    let (at, id) = after.unwrap_or_else(|| ("9999".into(), String::new()));
    documents(
        db,
        "SELECT body FROM orders WHERE customer_id = ?1 AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))
         ORDER BY created_at DESC, id DESC LIMIT ?4",
        &[customer.as_str().into(), at.into(), id.into(), limit.into()],
    )
    .await
}

/// A store's click & collect orders not yet collected or cancelled, oldest first.
pub async fn open_pickups(db: &D1Database, location: &LocationId) -> ApiResult<Vec<Order>> {
    documents(
        db,
        "SELECT body FROM orders WHERE pickup_location_id = ?1 AND status IN ('placed', 'ready_for_pickup') ORDER BY created_at LIMIT 500",
        &[location.as_str().into()],
    )
    .await
}

/// One entry of a customer's timeline.
#[derive(Debug, serde::Serialize, Deserialize)]
pub struct TimelineEntry {
    pub kind: String,
    pub id: String,
    pub channel: String,
    pub status: Option<String>,
    pub at: String,
}

/// Carts, orders and returns of a customer from every channel, newest first.
pub async fn timeline(db: &D1Database, customer: &CustomerId, limit: u32) -> ApiResult<Vec<TimelineEntry>> {
    Ok(db
        .prepare(
            "SELECT 'order' AS kind, id, channel, status, created_at AS at FROM orders WHERE customer_id = ?1
             UNION ALL
             SELECT 'cart' AS kind, id, channel, NULL AS status, created_at AS at FROM carts WHERE customer_id = ?1
             UNION ALL
             SELECT 'return' AS kind, id, channel, status, created_at AS at FROM returns WHERE customer_id = ?1
             ORDER BY at DESC, id DESC LIMIT ?2",
        )
        .bind(&[customer.as_str().into(), limit.into()])?
        .all()
        .await?
        .results()?)
}
