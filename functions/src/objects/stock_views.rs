//! SKUs' counts for lookups: read from their style's stock object now (strong, the
//! default), or taken from a short-lived cache in the isolate's memory when the caller
//! accepts counts up to a stated age (`MaxStaleness`, for product and listing pages).
//! SKUs of one style are read in one call, and every read from an object refreshes the
//! cache. It keeps at most `CAPACITY` SKUs and nothing older than the longest staleness
//! anyone may ask for. Holds, orders and checkout never read here: they always ask the
//! object.

use crate::http::error::ApiResult;
use crate::objects::stock::{SkuCommand, StockCommand};
use crate::objects::stock_client;
use chrono::{DateTime, Utc};
use omniedge::inventory::availability::{LevelsRead, MaxStaleness};
use omniedge::inventory::ledger::LocationLevel;
use omniedge::shared::ids::{Sku, StyleCode};
use omniedge::workflows::ports::Unavailable;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::Env;

/// Most SKUs kept; past it, entries too old for any caller are dropped, then all.
const CAPACITY: usize = 10_000;

thread_local! {
    static VIEWS: RefCell<HashMap<Sku, LevelsRead>> = RefCell::new(HashMap::new());
}

/// Each SKU's counts (SKUs with their styles), no older than `freshness` allows: those
/// not cached are read now, in one call per style.
pub async fn levels(env: &Env, skus: &[(&Sku, &StyleCode)], freshness: Option<MaxStaleness>) -> ApiResult<Vec<LevelsRead>> {
    let now = Utc::now();
    let cached = |sku: &Sku| {
        let max = i64::from(freshness?.millis());
        VIEWS.with(|views| views.borrow().get(sku).filter(|read| age_ms(read, now) <= max).cloned())
    };
    let mut reads: Vec<Option<LevelsRead>> = skus.iter().map(|(sku, _)| cached(sku)).collect();
    let missing: Vec<usize> = (0..skus.len()).filter(|&i| reads[i].is_none()).collect();
    let views = missing.iter().map(|&i| ((*skus[i].1).clone(), SkuCommand { sku: skus[i].0.clone(), command: StockCommand::View })).collect();
    let answers = stock_client::send_by_style::<Vec<LocationLevel>>(env, views).await;
    let read_at = Utc::now();
    for (i, answer) in missing.into_iter().zip(answers) {
        let read = LevelsRead { levels: answer??, read_at };
        remember(skus[i].0, &read);
        reads[i] = Some(read);
    }
    reads.into_iter().map(|read| read.ok_or_else(|| Unavailable("a SKU's counts were not read".into()).into())).collect()
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
