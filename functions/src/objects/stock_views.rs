//! A SKU's counts for lookups: read from its stock object now (strong, the default), or
//! taken from a short-lived cache in the isolate's memory when the caller accepts counts
//! up to a stated age (`MaxStaleness`, for product and listing pages). Every read from an
//! object refreshes the cache. It keeps at most `CAPACITY` SKUs and nothing older than
//! the longest staleness anyone may ask for. Holds, orders and checkout never read here:
//! they always ask the object.

use crate::http::error::ApiResult;
use crate::objects::stock_client::StockClient;
use chrono::{DateTime, Utc};
use omniedge::inventory::availability::{LevelsRead, MaxStaleness};
use omniedge::shared::ids::Sku;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::Env;

/// Most SKUs kept; past it, entries too old for any caller are dropped, then all.
const CAPACITY: usize = 10_000;

thread_local! {
    static VIEWS: RefCell<HashMap<Sku, LevelsRead>> = RefCell::new(HashMap::new());
}

/// The SKU's counts, no older than `freshness` allows (read now when it is absent).
pub async fn levels(env: &Env, sku: &Sku, freshness: Option<MaxStaleness>) -> ApiResult<LevelsRead> {
    let now = Utc::now();
    if let Some(max) = freshness {
        let cached = VIEWS.with(|views| views.borrow().get(sku).filter(|read| age_ms(read, now) <= i64::from(max.millis())).cloned());
        if let Some(read) = cached {
            return Ok(read);
        }
    }
    let levels = StockClient::for_sku(env, sku)?.view().await?;
    let read = LevelsRead { levels, read_at: Utc::now() };
    remember(sku, &read);
    Ok(read)
}

fn remember(sku: &Sku, read: &LevelsRead) {
    VIEWS.with(|views| {
        let mut views = views.borrow_mut();
        if views.len() >= CAPACITY && !views.contains_key(sku) {
            views.retain(|_, kept| age_ms(kept, read.read_at) <= i64::from(MaxStaleness::LONGEST_MS));
            if views.len() >= CAPACITY {
                views.clear();
            }
        }
        views.insert(sku.clone(), read.clone());
    });
}

fn age_ms(read: &LevelsRead, now: DateTime<Utc>) -> i64 {
    (now - read.read_at).num_milliseconds()
}

/// The `Age` header's value (whole seconds) for an answer built from `reads`: that of
/// the oldest.
pub fn age_seconds<'a>(reads: impl IntoIterator<Item = &'a DateTime<Utc>>) -> i64 {
    let now = Utc::now();
    reads.into_iter().map(|at| (now - *at).num_seconds().max(0)).max().unwrap_or(0)
}
