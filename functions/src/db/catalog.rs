//! The `products` table: SKUs with their style, color, size and price.

use super::{document, documents, upsert};
use crate::error::ApiResult;
use omniedge::catalog::Product;
use omniedge::ids::{Sku, StyleCode};
use wasm_bindgen::JsValue;
use worker::D1Database;

/// Most products one listing returns.
pub const LIST_LIMIT: usize = 500;

pub async fn put(db: &D1Database, product: &Product) -> ApiResult<bool> {
    let body = serde_json::to_string(product)?;
    upsert(
        db,
        "INSERT INTO products (sku, style, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(sku) DO UPDATE SET style = excluded.style, body = excluded.body, updated_at = excluded.updated_at
         RETURNING created_at",
        &[product.sku.as_str().into(), product.style.as_str().into(), body.into(), product.updated_at.as_str().into()],
        &product.updated_at,
    )
    .await
}

pub async fn get(db: &D1Database, sku: &Sku) -> ApiResult<Option<Product>> {
    document(db, "SELECT body FROM products WHERE sku = ?1", &[sku.as_str().into()]).await
}

pub async fn list(db: &D1Database, style: Option<&StyleCode>) -> ApiResult<Vec<Product>> {
    let limit = JsValue::from(LIST_LIMIT as u32);
    match style {
        Some(s) => documents(db, "SELECT body FROM products WHERE style = ?1 ORDER BY sku LIMIT ?2", &[s.as_str().into(), limit]).await,
        None => documents(db, "SELECT body FROM products ORDER BY sku LIMIT ?1", &[limit]).await,
    }
}

/// The products for the given SKUs (those that exist), in one query.
pub async fn many(db: &D1Database, skus: &[Sku]) -> ApiResult<Vec<Product>> {
    let json = serde_json::to_string(&skus)?;
    documents(db, "SELECT body FROM products WHERE sku IN (SELECT value FROM json_each(?1))", &[json.into()]).await
}
