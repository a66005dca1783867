//! The `products` table: SKUs with their style, color, size and price.

use super::{document, documents, guarded_upsert};
use crate::d1::cache::TtlCache;
use crate::http::error::ApiResult;
use omniedge::catalog::Product;
use omniedge::shared::ids::{Sku, StyleCode};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

/// Most products one listing returns.
pub const LIST_LIMIT: usize = 500;

thread_local! {
    static PRODUCTS: Rc<TtlCache<Sku, Product>> = Rc::new(TtlCache::new());
}

/// Creates or replaces a product: whether it was created, or None when the SKU exists
/// under another style (its stock is kept with its style's, so a SKU never changes style).
pub async fn put(db: &D1Database, product: &Product) -> ApiResult<Option<bool>> {
    PRODUCTS.with(|c| c.forget(&product.sku));
    let body = serde_json::to_string(product)?;
    guarded_upsert(
        db,
        "INSERT INTO products (sku, style, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(sku) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at WHERE products.style = excluded.style
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
    read_many(&db.batch(vec![many_statement(db, skus)?]).await?.remove(0))
}

/// The statement that reads the products for the given SKUs, to run in a batch; `read_many` reads its result.
pub fn many_statement(db: &D1Database, skus: &[Sku]) -> ApiResult<D1PreparedStatement> {
    Ok(db.prepare("SELECT body FROM products WHERE sku IN (SELECT value FROM json_each(?1))").bind(&[serde_json::to_string(&skus)?.into()])?)
}

/// The products read by `many_statement`.
pub fn read_many(result: &D1Result) -> ApiResult<Vec<Product>> {
    result.results::<super::DocumentRow>()?.iter().map(|r| Ok(serde_json::from_str(&r.body)?)).collect()
}

/// The products of a cart's lines (and of `adding`), those that exist, from the cache.
pub async fn of_cart(db: &D1Database, cart: &omniedge::sales::cart::Cart, adding: Option<&Sku>) -> ApiResult<Vec<Product>> {
    let skus: Vec<Sku> = cart.lines.iter().map(|l| l.sku.clone()).chain(adding.cloned()).collect();
    many_cached(db, &skus).await
}

/// The products for the given SKUs that exist, answered from the isolate cache where it
/// can (for stock lookups and cart views; orders are priced from fresh reads).
pub async fn many_cached(db: &D1Database, skus: &[Sku]) -> ApiResult<Vec<Product>> {
    let cache = PRODUCTS.with(Rc::clone);
    let mut found: Vec<Product> = Vec::with_capacity(skus.len());
    let mut missing: Vec<Sku> = Vec::new();
    for sku in skus {
        match cache.get(sku) {
            Some(product) => found.push((*product).clone()),
            None => missing.push(sku.clone()),
        }
    }
    if !missing.is_empty() {
        for product in many(db, &missing).await? {
            found.push(cache.put(product.sku.clone(), product).as_ref().clone());
        }
    }
    Ok(found)
}
