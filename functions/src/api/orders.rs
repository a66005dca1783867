//! Order intake from every channel and the order's life afterwards.
//!
//! Placing an order: claim the Idempotency-Key; allocate every line (pickup store,
//! POS store, or the nearest shipping locations); hold the units in each SKU's stock
//! object (all lines or none); write the order, the coupon redemption and the answer
//! to D1 in one batch; then commit the held units to the order. A placement that dies
//! before the batch leaves only holds, which lapse; one that dies after it leaves a
//! whole order whose commit is finished by the next read or retry.

use crate::objects::cart_client::CartClient;
use crate::objects::cart::CartCommand;
use crate::d1;
use crate::d1::idempotency::{self, Claim};
use crate::http::error::{ApiError, ApiResult};
use crate::http::{body_bytes, idempotency_key, invalid_query, json, json_text, new_id, now_rfc3339, parse_json, path_id, Query};
use crate::objects::stock_client::StockClient;
use crate::config;
use crate::http::faults;
use chrono::{Duration, Utc};
use futures_util::future::{join_all, try_join_all};
use omniedge::access::Principal;
use omniedge::sales::allocation::{allocate, delivery_distance_km, per_sku, AllocationError, Availability, ShortLine};
use omniedge::sales::origin::SalesOrigin;
use omniedge::customers::Contact;
use omniedge::shared::ids::{CustomerId, LocationId, OrderId, Sku};
use omniedge::sales::order::{transition, OrderAction, OrderStatus, StockEffect};
use omniedge::sales::placement::{direct_hold_ref, BasketSource, Order, OrderDraft};
use omniedge::pricing::price_basket;
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::inventory::ledger::{Allocation, HoldRef, Short};
use omniedge::Problem;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use worker::{D1Database, Env, Request, Response};

pub async fn place(req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let key = idempotency_key(req)?;
    let bytes = body_bytes(req).await?;
    let draft: OrderDraft = parse_json(&bytes)?;
    let db = d1::database(env)?;
    let scope = format!("{}:orders", caller.key_id());
    let fingerprint = hex::encode(Sha256::digest(&bytes));
    if let Claim::Replay { status, body } = idempotency::claim(&db, &scope, &key, &fingerprint, &now_rfc3339()).await? {
        let order: Order = serde_json::from_str(&body)?;
        finish_commit(&db, env, &order).await?;
        let response = json_text(status, body)?;
        response.headers().set("idempotent-replayed", "true")?;
        return Ok(response);
    }
    match place_claimed(&db, env, caller, req, draft, &scope, &key).await {
        Ok(response) => Ok(response),
        Err(error) => {
            if error.0.status < 500 {
                idempotency::abandon(&db, &scope, &key).await?;
            }
            Err(error)
        }
    }
}

/// The basket being ordered and whose holds it may use.
struct Basket {
    origin: SalesOrigin,
    lines: Vec<(Sku, PositiveQuantity)>,
    hold: HoldRef,
    cart: Option<omniedge::sales::cart::Cart>,
}

async fn basket(env: &Env, caller: &Principal, draft: &OrderDraft, order_id: &OrderId) -> ApiResult<Basket> {
    match draft.basket().map_err(Problem::from)? {
        BasketSource::Cart(cart_id) => {
            let cart = CartClient::for_cart(env, &cart_id)?.send(CartCommand::Get).await?;
            cart.check_open().map_err(Problem::from)?;
            let lines = cart.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
            Ok(Basket { origin: cart.origin.clone(), lines, hold: cart.hold_ref(), cart: Some(cart) })
        }
        BasketSource::Lines(lines) => {
            let origin = SalesOrigin::for_caller(caller, draft.channel, draft.location_id.clone()).map_err(Problem::from)?;
            Ok(Basket { origin, lines, hold: direct_hold_ref(order_id), cart: None })
        }
    }
}

async fn place_claimed(
    db: &D1Database,
    env: &Env,
    caller: &Principal,
    req: &Request,
    draft: OrderDraft,
    scope: &str,
    key: &str,
) -> ApiResult<Response> {
    let order_id = OrderId::parse(&new_id("ord")).expect("generated ids are valid");
    let basket = basket(env, caller, &draft, &order_id).await?;
    let pos = match caller {
        Principal::Store { location_id, .. } => Some(location_id.clone()),
        _ => basket.origin.store_location().cloned(),
    };
    let fulfilment = draft.fulfilment.clone().resolve(pos).map_err(Problem::from)?;
    draft.payment.check_fits(fulfilment.kind()).map_err(Problem::from)?;
    let skus: Vec<Sku> = basket.lines.iter().map(|(sku, _)| sku.clone()).collect();
    let coupon_lookup = async {
        match &draft.coupon_code {
            Some(code) => d1::coupons::get(db, code)
                .await?
                .map(Some)
                .ok_or_else(|| ApiError(Problem::not_found("coupon", code.as_str()))),
            None => Ok(None),
        }
    };
    let (products, locations, coupon, availability) = futures_util::try_join!(
        d1::catalog::many(db, &skus),
        d1::locations::all(db),
        coupon_lookup,
        availability(env, &skus, &basket.hold),
    )?;
    let allocated = allocate(&basket.lines, &availability, locations.as_slice(), &fulfilment).map_err(Problem::from)?;
    let distance = fulfilment.destination().and_then(|to| delivery_distance_km(&allocated, locations.as_slice(), &to));
    let catalog: HashMap<Sku, _> = products.into_iter().map(|p| (p.sku.clone(), p)).collect();
    let tariff = config::delivery_tariff(env)?;
    let now = Utc::now();
    let (lines, totals) =
        price_basket(&basket.lines, &catalog, coupon.as_ref(), fulfilment.kind(), distance, &tariff, now).map_err(Problem::from)?;
    let contact = draft.contact.clone().or_else(|| basket.cart.as_ref().map(|c| c.contact.clone())).unwrap_or_default();
    let customer_id = customer_for(db, draft.customer_id.clone().or_else(|| basket.cart.as_ref().and_then(|c| c.customer_id.clone())), &contact).await?;

    let by_sku = per_sku(&allocated);
    reserve(env, &basket.hold, &by_sku, now + Duration::seconds(config::placement_hold_seconds(env)), basket.cart.is_none()).await?;
    if faults::requested(req, env, "after_reserve") {
        panic!("injected fault: placement died after reserving stock");
    }

    let mut order = Order {
        id: order_id,
        origin: basket.origin,
        status: OrderStatus::Placed,
        cart_id: basket.cart.as_ref().map(|c| c.id.clone()),
        customer_id,
        contact,
        fulfilment,
        payment: draft.payment,
        coupon_code: coupon.as_ref().map(|c| c.code.clone()),
        lines,
        allocations: allocated,
        totals,
        placed_at: now,
        history: Vec::new(),
    };
    order.record(OrderStatus::initial(order.fulfilment.kind()), now, caller.key_id());
    let body = serde_json::to_string(&order)?;
    let mut batch = Vec::new();
    if let Some(code) = &order.coupon_code {
        batch.extend(d1::coupons::redeem(db, code, order.id.as_str(), &now_rfc3339())?);
    }
    batch.extend(d1::orders::insert(db, &order)?);
    batch.push(idempotency::finish(db, scope, key, 201, &body)?);
    if let Err(e) = db.batch(batch).await {
        release(env, &basket.hold, &by_sku, basket.cart.is_none()).await;
        let cause = e.to_string();
        return Err(if cause.contains("CHECK constraint failed") {
            Problem::conflict("coupon_used_up", "the coupon has no redemptions left").with("coupon", &order.coupon_code).into()
        } else if cause.contains("UNIQUE constraint failed: orders.cart_id") {
            Problem::conflict("cart_closed", "this cart was just ordered by another request").with("cart_id", &order.cart_id).into()
        } else {
            e.into()
        });
    }
    if faults::requested(req, env, "after_order_write") {
        panic!("injected fault: placement died after writing the order");
    }
    commit_stock(db, env, &order).await?;
    if let Some(cart) = &basket.cart {
        CartClient::for_cart(env, &cart.id)?.send(CartCommand::Close { order_id: order.id.clone() }).await?;
    }
    json_text(201, body)
}

/// Available units per SKU and location, counting what `hold` already holds as its own.
async fn availability(env: &Env, skus: &[Sku], hold: &HoldRef) -> ApiResult<Availability> {
    let views = try_join_all(skus.iter().map(|sku| async move { StockClient::for_sku(env, sku)?.view_for(hold).await })).await?;
    Ok(skus
        .iter()
        .zip(views)
        .map(|(sku, levels)| (sku.clone(), levels.into_iter().map(|l| (l.location_id, l.available)).collect()))
        .collect())
}

/// Holds every SKU's allocation (in parallel); on any shortage lets go of the others
/// (unless they are a cart's holds, which stay the cart's) and names the short lines.
async fn reserve(
    env: &Env,
    hold: &HoldRef,
    by_sku: &BTreeMap<Sku, Vec<Allocation>>,
    expires_at: chrono::DateTime<Utc>,
    release_on_failure: bool,
) -> ApiResult<()> {
    let outcomes = join_all(by_sku.iter().map(|(sku, allocations)| async move {
        let held = async { StockClient::for_sku(env, sku)?.hold(hold, allocations.clone(), expires_at).await }.await;
        held.map_err(|e| (sku.clone(), e))
    }))
    .await;
    let failures: Vec<(Sku, ApiError)> = outcomes.into_iter().filter_map(Result::err).collect();
    if failures.is_empty() {
        return Ok(());
    }
    release(env, hold, by_sku, release_on_failure).await;
    let mut short = Vec::new();
    for (sku, error) in failures {
        let refused = error.0.extensions.get("short").cloned().map(serde_json::from_value::<Vec<Short>>);
        match refused {
            Some(Ok(refused)) if error.0.code == "insufficient_stock" => short.push(ShortLine::from_refused_hold(sku, &refused)),
            _ => return Err(error),
        }
    }
    Err(Problem::from(AllocationError::Short { short }).into())
}

async fn release(env: &Env, hold: &HoldRef, by_sku: &BTreeMap<Sku, Vec<Allocation>>, really: bool) {
    if really {
        join_all(by_sku.keys().map(|sku| async move { StockClient::for_sku(env, sku)?.release(hold).await })).await;
    }
}

/// Finishes the stock commit of an order read back (a replay), unless it is done.
async fn finish_commit(db: &D1Database, env: &Env, order: &Order) -> ApiResult<()> {
    if d1::orders::get(db, &order.id).await?.is_some_and(|s| s.stock_committed) {
        return Ok(());
    }
    commit_stock(db, env, order).await
}

/// Commits the order's units in every SKU's ledger (idempotent), hands over an in-store
/// sale at once, and marks the order committed.
async fn commit_stock(db: &D1Database, env: &Env, order: &Order) -> ApiResult<()> {
    let hold = match &order.cart_id {
        Some(cart) => HoldRef(format!("cart:{cart}")),
        None => direct_hold_ref(&order.id),
    };
    let by_sku = per_sku(&order.allocations);
    let reference = order.order_ref();
    try_join_all(by_sku.iter().map(|(sku, allocations)| {
        let (hold, reference) = (&hold, &reference);
        async move {
            let stock = StockClient::for_sku(env, sku)?;
            stock.commit(reference, hold, allocations.clone()).await?;
            if StockEffect::at_placement(order.fulfilment.kind()) == StockEffect::HandOver {
                hand_over_once(&stock, reference).await?;
            }
            Ok::<_, ApiError>(())
        }
    }))
    .await?;
    d1::orders::mark_committed(db, &order.id).await
}

/// The cron's repair pass: finishes the stock commit of orders whose placement died
/// after writing them; an order whose units were sold meanwhile is cancelled, so
/// nothing is ever promised twice.
pub async fn settle_uncommitted(env: &Env) -> ApiResult<()> {
    let db = d1::database(env)?;
    for mut order in d1::orders::uncommitted(&db).await? {
        match commit_stock(&db, env, &order).await {
            Err(e) if e.0.code == "insufficient_stock" => {
                worker::console_error!("order {} could not get its stock after a failed placement; cancelling it", order.id);
                let previous = order.status;
                order.record(OrderStatus::Cancelled, Utc::now(), "stock-repair");
                d1::orders::update_status(&db, &order, previous.as_str()).await?;
                d1::orders::mark_committed(&db, &order.id).await?;
            }
            outcome => outcome?,
        }
    }
    Ok(())
}

/// Hands over committed units; already handed over counts as done.
async fn hand_over_once(stock: &StockClient, reference: &omniedge::inventory::ledger::OrderRef) -> ApiResult<()> {
    match stock.hand_over(reference).await {
        Err(e) if e.0.code == "not_committed" => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The customer an order belongs to: the one named, else the one with the contact's email.
async fn customer_for(db: &D1Database, named: Option<CustomerId>, contact: &Contact) -> ApiResult<Option<CustomerId>> {
    if let Some(id) = named {
        crate::api::customers::find(db, &id).await?;
        return Ok(Some(id));
    }
    Ok(match &contact.email {
        Some(email) => d1::customers::by_email(db, email).await?.and_then(|c| CustomerId::parse(&c.id).ok()),
        None => None,
    })
}

pub async fn get(id: &str, env: &Env) -> ApiResult<Response> {
    let id = path_id(id, OrderId::parse)?;
    let db = d1::database(env)?;
    let stored = find(&db, &id).await?;
    if !stored.stock_committed && stored.order.status != OrderStatus::Cancelled {
        commit_stock(&db, env, &stored.order).await?;
    }
    json(200, &stored.order)
}

async fn find(db: &D1Database, id: &OrderId) -> ApiResult<d1::orders::Stored> {
    d1::orders::get(db, id).await?.ok_or_else(|| Problem::not_found("order", id.as_str()).into())
}

/// Moves an order on (mark_ready, collect, ship, deliver, cancel) with its stock effect.
pub async fn act(id: &str, action: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, OrderId::parse)?;
    let action = OrderAction::parse(action)
        .ok_or_else(|| Problem::new(404, "not_found", format!("no order action {action:?}; use mark_ready, collect, ship, deliver or cancel")))?;
    let db = d1::database(env)?;
    let stored = find(&db, &id).await?;
    let mut order = stored.order;
    may_act_on(caller, &order)?;
    let previous = order.status;
    let next = transition(previous, action, order.fulfilment.kind()).map_err(Problem::from)?;
    order.record(next, Utc::now(), caller.key_id());
    if !d1::orders::update_status(&db, &order, previous.as_str()).await? {
        return Err(Problem::conflict("order_changed", "the order changed meanwhile; read it again").into());
    }
    if faults::requested(req, env, "after_status_write") {
        panic!("injected fault: status change died after writing the status");
    }
    let reference = order.order_ref();
    let skus: Vec<Sku> = per_sku(&order.allocations).into_keys().collect();
    match action.stock_effect() {
        StockEffect::None => {}
        StockEffect::HandOver => {
            try_join_all(skus.iter().map(|sku| {
                let reference = &reference;
                async move { hand_over_once(&StockClient::for_sku(env, sku)?, reference).await }
            }))
            .await?;
        }
        StockEffect::Restock => {
            try_join_all(skus.iter().map(|sku| {
                let reference = &reference;
                async move {
                    match StockClient::for_sku(env, sku)?.restock(reference).await {
                        Err(e) if e.0.code == "not_committed" => Ok(()),
                        other => other.map(|_| ()),
                    }
                }
            }))
            .await?;
        }
    }
    json(200, &order)
}

/// Store keys act only on orders their own location fulfils.
fn may_act_on(caller: &Principal, order: &Order) -> ApiResult<()> {
    match caller {
        Principal::Store { location_id, .. } if !order.locations().contains(location_id) => Err(Problem::new(
            403,
            "other_location",
            format!("order {} is not fulfilled by {location_id}", order.id),
        )
        .into()),
        Principal::Storefront { .. } => Err(Problem::new(403, "admin_only", "storefront keys cannot move orders on").into()),
        _ => Ok(()),
    }
}

/// A customer's orders from every channel, newest first, with a cursor.
pub async fn list(req: &Request, env: &Env) -> ApiResult<Response> {
    let query = Query::of(req)?;
    query.only(&["customer_id", "limit", "cursor"])?;
    let customer = query
        .parse("customer_id", CustomerId::parse)?
        .ok_or_else(|| invalid_query("customer_id is required".into()))?;
    let limit = query
        .parse("limit", |l| l.parse::<u32>().ok().filter(|n| (1..=100).contains(n)).ok_or("must be 1 to 100"))?
        .unwrap_or(20);
    let after = query.parse("cursor", decode_cursor)?;
    let db = d1::database(env)?;
    let mut orders = d1::orders::for_customer(&db, &customer, limit + 1, after).await?;
    let next_cursor = (orders.len() > limit as usize).then(|| {
        orders.truncate(limit as usize);
        orders.last().map(encode_cursor).unwrap_or_default()
    });
    json(200, &serde_json::json!({ "items": orders, "next_cursor": next_cursor }))
}

fn encode_cursor(order: &Order) -> String {
    hex::encode(format!("{}|{}", order.placed_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), order.id))
}

fn decode_cursor(text: &str) -> Result<(String, String), &'static str> {
    let bytes = hex::decode(text).map_err(|_| "is not a cursor from this list")?;
    let text = String::from_utf8(bytes).map_err(|_| "is not a cursor from this list")?;
    let (at, id) = text.split_once('|').ok_or("is not a cursor from this list")?;
    Ok((at.to_owned(), id.to_owned()))
}

/// A store's click & collect orders waiting to be handed over.
pub async fn pickups(location: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let location = path_id(location, LocationId::parse)?;
    if let Principal::Store { location_id, .. } = caller {
        if *location_id != location {
            return Err(Problem::new(403, "other_location", format!("this key is bound to location {location_id}, not {location}")).into());
        }
    }
    let db = d1::database(env)?;
    d1::locations::get(&db, &location).await?.ok_or_else(|| Problem::not_found("location", location.as_str()))?;
    let items = d1::orders::open_pickups(&db, &location).await?;
    json(200, &serde_json::json!({ "items": items }))
}
