//! The `orders` table (the Order document plus the columns it is listed by) and
//! `order_locations` (which locations fulfil it).

use super::documents;
use crate::http::error::ApiResult;
use omniedge::shared::ids::{CustomerId, LocationId, OrderId};
use omniedge::sales::placement::Order;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

fn stamp(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The statements that write a new order; run them in one batch.
pub fn insert(db: &D1Database, order: &Order) -> ApiResult<Vec<D1PreparedStatement>> {
    let customer = order.customer_id.as_ref().map_or(JsValue::NULL, |c| c.as_str().into());
    let pickup = match &order.fulfilment {
        omniedge::sales::fulfilment::FulfilmentRequest::Pickup { location_id } => JsValue::from(location_id.as_str()),
        _ => JsValue::NULL,
    };
    let placed = stamp(&order.placed_at);
    let mut statements = vec![db
        .prepare(
            "INSERT INTO orders (id, customer_id, cart_id, channel, status, pickup_location_id, body, created_at, updated_at)
             VALUES (?1, ?2, ?8, ?3, ?4, ?5, ?6, ?7, ?7)",
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
        ])?];
    for location in order.locations() {
        statements.push(
            db.prepare("INSERT INTO order_locations (order_id, location_id) VALUES (?1, ?2)")
                .bind(&[order.id.as_str().into(), location.as_str().into()])?,
        );
    }
    Ok(statements)
}

/// An order with whether its stock was committed yet.
pub struct Stored {
    pub order: Order,
    pub stock_committed: bool,
}

#[derive(Deserialize)]
struct Row {
    body: String,
    stock_committed: u8,
}

pub async fn get(db: &D1Database, id: &OrderId) -> ApiResult<Option<Stored>> {
    let row: Option<Row> =
        db.prepare("SELECT body, stock_committed FROM orders WHERE id = ?1").bind(&[id.as_str().into()])?.first(None).await?;
    row.map(|r| Ok(Stored { order: serde_json::from_str(&r.body)?, stock_committed: r.stock_committed == 1 })).transpose()
}

pub async fn mark_committed(db: &D1Database, id: &OrderId) -> ApiResult<()> {
    db.prepare("UPDATE orders SET stock_committed = 1 WHERE id = ?1").bind(&[id.as_str().into()])?.run().await?;
    Ok(())
}

/// Saves a status change unless someone else changed the order first; false then.
pub async fn update_status(db: &D1Database, order: &Order, previous: &str) -> ApiResult<bool> {
    let result = db
        .prepare("UPDATE orders SET status = ?2, body = ?3, updated_at = ?4 WHERE id = ?1 AND status = ?5")
        .bind(&[
            order.id.as_str().into(),
            order.status.as_str().into(),
            serde_json::to_string(order)?.into(),
            crate::http::now_rfc3339().into(),
            previous.into(),
        ])?
        .run()
        .await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0) == 1)
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

/// Orders written by a placement that died before committing their stock.
pub async fn uncommitted(db: &D1Database) -> ApiResult<Vec<Order>> {
    documents(db, "SELECT body FROM orders WHERE stock_committed = 0 AND status <> 'cancelled' ORDER BY created_at LIMIT 100", &[]).await
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

/// Carts and orders of a customer from every channel, newest first.
pub async fn timeline(db: &D1Database, customer: &CustomerId, limit: u32) -> ApiResult<Vec<TimelineEntry>> {
    Ok(db
        .prepare(
            "SELECT 'order' AS kind, id, channel, status, created_at AS at FROM orders WHERE customer_id = ?1
             UNION ALL
             SELECT 'cart' AS kind, id, channel, NULL AS status, created_at AS at FROM carts WHERE customer_id = ?1
             ORDER BY at DESC, id DESC LIMIT ?2",
        )
        .bind(&[customer.as_str().into(), limit.into()])?
        .all()
        .await?
        .results()?)
}
