//! The `products` table: SKUs with their style, color, size and price.

use super::{document, documents, upsert};
use crate::cache::TtlCache;
use crate::error::ApiResult;
use omniedge::catalog::Product;
use omniedge::ids::{Sku, StyleCode};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use worker::D1Database;

/// Most products one listing returns.
pub const LIST_LIMIT: usize = 500;

thread_local! {
    static PRODUCTS: Rc<TtlCache<Sku, Product>> = Rc::new(TtlCache::new());
}

pub async fn put(db: &D1Database, product: &Product) -> ApiResult<bool> {
    PRODUCTS.with(|c| c.forget(&product.sku));
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

/// A product as stock lookups need it (cached in the isolate, see `cache`; prices for
/// carts and orders are always read fresh with `get`/`many`).
pub async fn get_cached(db: &D1Database, sku: &Sku) -> ApiResult<Option<Rc<Product>>> {
    let cache = PRODUCTS.with(Rc::clone);
    if let Some(product) = cache.get(sku) {
        return Ok(Some(product));
    }
    Ok(get(db, sku).await?.map(|p| cache.put(sku.clone(), p)))
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

/// Which of the given SKUs are in the catalog, answered from the isolate cache where it can.
pub async fn known(db: &D1Database, skus: &[Sku]) -> ApiResult<Vec<Sku>> {
    let cache = PRODUCTS.with(Rc::clone);
    let (mut found, missing): (Vec<Sku>, Vec<Sku>) = skus.iter().cloned().partition(|s| cache.get(s).is_some());
    if !missing.is_empty() {
        for product in many(db, &missing).await? {
            found.push(product.sku.clone());
            cache.put(product.sku.clone(), product);
        }
    }
    Ok(found)
}
