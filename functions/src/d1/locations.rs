//! The `locations` table: stores, warehouses and pickup points.

use super::{document, documents, upsert};
use crate::d1::cache::TtlCache;
use crate::http::error::ApiResult;
use omniedge::shared::ids::LocationId;
use omniedge::locations::{Location, LocationKind};
use std::collections::HashMap;
use std::rc::Rc;
use worker::D1Database;

thread_local! {
    static ALL: Rc<TtlCache<(), Vec<Location>>> = Rc::new(TtlCache::new());
}

/// Creates or replaces a location; true when created.
pub async fn put(db: &D1Database, location: &Location) -> ApiResult<bool> {
    ALL.with(|c| c.clear());
    let body = serde_json::to_string(location)?;
    upsert(
        db,
        "INSERT INTO locations (id, kind, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, body = excluded.body, updated_at = excluded.updated_at
         RETURNING created_at",
        &[location.id.as_str().into(), location.kind.as_str().into(), body.into(), location.updated_at.as_str().into()],
        &location.updated_at,
    )
    .await
}

pub async fn get(db: &D1Database, id: &LocationId) -> ApiResult<Option<Location>> {
    document(db, "SELECT body FROM locations WHERE id = ?1", &[id.as_str().into()]).await
}

pub async fn list(db: &D1Database, kind: Option<LocationKind>) -> ApiResult<Vec<Location>> {
    match kind {
        Some(k) => documents(db, "SELECT body FROM locations WHERE kind = ?1 ORDER BY id", &[k.as_str().into()]).await,
        None => documents(db, "SELECT body FROM locations ORDER BY id", &[]).await,
    }
}

/// Every location (cached in the isolate, see `cache`), for stock lookups and orders.
pub async fn all(db: &D1Database) -> ApiResult<Rc<Vec<Location>>> {
    let cache = ALL.with(Rc::clone);
    match cache.get(&()) {
        Some(locations) => Ok(locations),
        None => Ok(cache.put((), list(db, None).await?)),
    }
}

/// Every location by id, for joining with stock levels.
pub async fn by_id(db: &D1Database) -> ApiResult<HashMap<LocationId, Location>> {
    Ok(all(db).await?.iter().map(|l| (l.id.clone(), l.clone())).collect())
}
