//! The `carts` index: which carts a customer has (the cart itself lives in its object).

use crate::http::error::ApiResult;
use omniedge::sales::cart::Cart;
use wasm_bindgen::JsValue;
use worker::D1Database;

/// Records or updates the cart's customer and channel, for timelines.
pub async fn index(db: &D1Database, cart: &Cart) -> ApiResult<()> {
    let customer = cart.customer_id.as_ref().map_or(JsValue::NULL, |c| c.as_str().into());
    db.prepare(
        "INSERT INTO carts (id, customer_id, channel, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id",
    )
    .bind(&[
        cart.id.as_str().into(),
        customer,
        cart.origin.channel().as_str().into(),
        cart.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into(),
    ])?
    .run()
    .await?;
    Ok(())
}
