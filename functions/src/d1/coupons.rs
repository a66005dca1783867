//! The `coupons` table. The live redemption count is a column, guarded by a CHECK so
//! that a redemption written in the same batch as its order can never overshoot.

use super::upsert;
use crate::http::error::ApiResult;
use omniedge::pricing::coupon::{Coupon, CouponCode};
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize)]
struct Row {
    body: String,
    redeemed: u32,
}

pub async fn get(db: &D1Database, code: &CouponCode) -> ApiResult<Option<Coupon>> {
    let row: Option<Row> =
        db.prepare("SELECT body, redeemed FROM coupons WHERE code = ?1").bind(&[code.as_str().into()])?.first(None).await?;
    row.map(|r| {
        let mut coupon: Coupon = serde_json::from_str(&r.body)?;
        coupon.redeemed = r.redeemed;
        Ok(coupon)
    })
    .transpose()
}

/// Creates or revises a coupon (its redemption count is kept); true when created.
pub async fn put(db: &D1Database, coupon: &Coupon, now: &str) -> ApiResult<bool> {
    let max = coupon.max_redemptions.map_or(JsValue::NULL, JsValue::from);
    upsert(
        db,
        "INSERT INTO coupons (code, body, max_redemptions, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(code) DO UPDATE SET body = excluded.body, max_redemptions = excluded.max_redemptions, updated_at = excluded.updated_at
         RETURNING created_at",
        &[coupon.code.as_str().into(), serde_json::to_string(coupon)?.into(), max, now.into()],
        now,
    )
    .await
}

/// The statements that redeem a coupon for an order, once the order is written in the
/// same batch (they change nothing when it was not); the CHECK fails the whole batch
/// when the coupon is used up.
pub fn redeem(db: &D1Database, code: &CouponCode, order_id: &str, now: &str) -> ApiResult<Vec<D1PreparedStatement>> {
    Ok(vec![
        db.prepare("UPDATE coupons SET redeemed = redeemed + 1 WHERE code = ?1 AND EXISTS (SELECT 1 FROM orders WHERE id = ?2)")
            .bind(&[code.as_str().into(), order_id.into()])?,
        db.prepare("INSERT INTO coupon_redemptions (code, order_id, redeemed_at) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM orders WHERE id = ?2)")
            .bind(&[code.as_str().into(), order_id.into(), now.into()])?,
    ])
}
