//! D1 access: one file per table family; rows keep the served document as JSON next
//! to the columns that are searched, so reading a row back is one parse.

pub mod api_keys;
pub mod cache;
pub mod carts;
pub mod catalog;
pub mod coupons;
pub mod customers;
pub mod idempotency;
pub mod locations;
pub mod order_store;
pub mod orders;
pub mod reminders;
pub mod returns;
pub mod store_credit;

use crate::http::error::ApiResult;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

pub fn database(env: &Env) -> ApiResult<D1Database> {
    Ok(env.d1("DB")?)
}

/// A row that stores a served document as JSON text.
#[derive(Deserialize)]
struct DocumentRow {
    body: String,
}

/// Runs a query whose first column is `body` and parses each into `T`.
async fn documents<T: DeserializeOwned>(db: &D1Database, sql: &str, binds: &[JsValue]) -> ApiResult<Vec<T>> {
    let rows: Vec<DocumentRow> = db.prepare(sql).bind(binds)?.all().await?.results()?;
    rows.iter().map(|r| Ok(serde_json::from_str(&r.body)?)).collect()
}

/// Like [`documents`], for at most one row.
async fn document<T: DeserializeOwned>(db: &D1Database, sql: &str, binds: &[JsValue]) -> ApiResult<Option<T>> {
    let row: Option<DocumentRow> = db.prepare(sql).bind(binds)?.first(None).await?;
    row.map(|r| Ok(serde_json::from_str(&r.body)?)).transpose()
}

#[derive(Deserialize)]
struct CreatedAt {
    created_at: String,
}

/// Inserts or replaces a document row; true when it was created by this call.
async fn upsert(db: &D1Database, sql: &str, binds: &[JsValue], now: &str) -> ApiResult<bool> {
    Ok(guarded_upsert(db, sql, binds, now).await? == Some(true))
}

/// Inserts a document row or replaces it where the statement's guard lets it: whether
/// it was created by this call, or None when the guard kept the row as it was.
async fn guarded_upsert(db: &D1Database, sql: &str, binds: &[JsValue], now: &str) -> ApiResult<Option<bool>> {
    let row: Option<CreatedAt> = db.prepare(sql).bind(binds)?.first(None).await?;
    Ok(row.map(|r| r.created_at == now))
}
