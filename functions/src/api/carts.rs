//! Carts from any channel: create, read with prices, set and remove lines (holding
//! their units), attach contact details or the customer who logged in.

use crate::objects::cart_client::CartClient;
use crate::objects::cart::CartCommand;
use crate::config;
use crate::d1;
use crate::http::error::{ApiError, ApiResult};
use crate::http::{json, json_body, new_id, path_id};
use crate::api::customers;
use crate::objects::stock_client::StockClient;
use chrono::{Duration, Utc};
use futures_util::future::try_join_all;
use omniedge::access::Principal;
use omniedge::sales::cart::{Cart, CartDraft, CartLine, CartUpdate, CartView, LineQuantity};
use omniedge::sales::origin::SalesOrigin;
use omniedge::shared::ids::{CartId, LocationId, Sku};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::inventory::ledger::StockError;
use omniedge::Problem;
use worker::{D1Database, Env, Request, Response};

pub async fn create(req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let draft: CartDraft = json_body(req).await?;
    let origin = SalesOrigin::for_caller(caller, draft.channel, draft.location_id.clone()).map_err(Problem::from)?;
    let db = d1::database(env)?;
    if let Some(store) = origin.store_location() {
        d1::locations::get(&db, store).await?.ok_or_else(|| Problem::not_found("location", store.as_str()))?;
    }
    if let Some(customer) = &draft.customer_id {
        customers::find(&db, customer).await?;
    }
    let default_hold = config::cart_hold_seconds(env);
    let hold_seconds = draft.hold_seconds.map_or(default_hold, |asked| asked.min(default_hold));
    let id = CartId::parse(&new_id("cart")).expect("generated ids are valid");
    let cart = Cart::open(id.clone(), origin, draft, hold_seconds, Utc::now());
    let cart = CartClient::for_cart(env, &id)?.send(CartCommand::Create { cart }).await?;
    d1::carts::index(&db, &cart).await?;
    respond(201, &db, &cart).await
}

pub async fn get(id: &str, env: &Env) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let cart = CartClient::for_cart(env, &id)?.send(CartCommand::Get).await?;
    respond(200, &d1::database(env)?, &cart).await
}

/// Sets a line's quantity, holding its units. Activity refreshes the other lines' holds
/// too, once they are past half their time (so a busy cart does not re-hold every line
/// on every click).
pub async fn put_line(id: &str, sku: &str, req: &mut Request, env: &Env) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let sku = path_id(sku, Sku::parse)?;
    let LineQuantity { quantity } = json_body(req).await?;
    let carts = CartClient::for_cart(env, &id)?;
    let db = d1::database(env)?;
    let known = async { d1::catalog::get_cached(&db, &sku).await?.ok_or_else(|| ApiError(Problem::not_found("sku", sku.as_str()))) };
    let (cart, _, locations) = futures_util::try_join!(carts.send(CartCommand::Get), known, d1::locations::all(&db))?;
    cart.check_open().map_err(Problem::from)?;
    let eligible = cart.hold_locations(&locations);
    let refresh_before = Utc::now() + Duration::seconds(cart.hold_seconds as i64 / 2);
    let stale: Vec<(Sku, PositiveQuantity)> = cart
        .lines
        .iter()
        .filter(|l| l.sku != sku && cart.hold_seconds > 0 && l.hold_expires_at.is_none_or(|at| at < refresh_before))
        .map(|l| (l.sku.clone(), l.quantity))
        .collect();
    let wanted: Vec<(Sku, PositiveQuantity)> = std::iter::once((sku, quantity)).chain(stale).collect();
    let lines = try_join_all(wanted.into_iter().enumerate().map(|(i, (sku, quantity))| {
        let (cart, eligible) = (&cart, &eligible);
        async move {
            match hold_line(env, cart, sku.clone(), quantity, eligible).await {
                // An older line whose stock is gone stays in the cart, unheld; checkout will say so.
                Err(_) if i > 0 => Ok(CartLine { sku, quantity, held_at: None, hold_expires_at: None }),
                outcome => outcome,
            }
        }
    }))
    .await?;
    let cart = carts.send(CartCommand::SetLines { lines }).await?;
    respond(200, &db, &cart).await
}

/// Holds a line's units where most are available, or (holds disabled) checks they exist.
async fn hold_line(env: &Env, cart: &Cart, sku: Sku, quantity: PositiveQuantity, eligible: &[LocationId]) -> ApiResult<CartLine> {
    let stock = StockClient::for_sku(env, &sku)?;
    if cart.hold_seconds == 0 {
        let levels = stock.view_for(&cart.hold_ref()).await?;
        let available: u32 = levels.iter().filter(|l| eligible.contains(&l.location_id)).map(|l| l.available).sum();
        if available < quantity.get() {
            let short = levels.into_iter().filter(|l| eligible.contains(&l.location_id)).map(|l| omniedge::inventory::ledger::Short {
                location_id: l.location_id,
                requested: quantity.get(),
                available: l.available,
            });
            return Err(Problem::from(StockError::Shortage { short: short.collect() }).with("sku", &sku).into());
        }
        return Ok(CartLine { sku, quantity, held_at: None, hold_expires_at: None });
    }
    let expires_at = Utc::now() + Duration::seconds(cart.hold_seconds as i64);
    let held_at = stock
        .hold_anywhere(&cart.hold_ref(), quantity, eligible.to_vec(), expires_at)
        .await
        .map_err(|e| ApiError(e.0.with("sku", &sku)))?;
    Ok(CartLine { sku, quantity, held_at: Some(held_at), hold_expires_at: Some(expires_at) })
}

pub async fn remove_line(id: &str, sku: &str, env: &Env) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let sku = path_id(sku, Sku::parse)?;
    let cart = CartClient::for_cart(env, &id)?.send(CartCommand::RemoveLine { sku: sku.clone() }).await?;
    StockClient::for_sku(env, &sku)?.release(&cart.hold_ref()).await?;
    respond(200, &d1::database(env)?, &cart).await
}

pub async fn update(id: &str, req: &mut Request, env: &Env) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let update: CartUpdate = json_body(req).await?;
    let db = d1::database(env)?;
    if let Some(customer) = &update.customer_id {
        customers::find(&db, customer).await?;
    }
    let cart = CartClient::for_cart(env, &id)?.send(CartCommand::Update { update }).await?;
    d1::carts::index(&db, &cart).await?;
    respond(200, &db, &cart).await
}

/// The cart with each line priced from the catalog, and its subtotal.
async fn respond(status: u16, db: &D1Database, cart: &Cart) -> ApiResult<Response> {
    let skus: Vec<Sku> = cart.lines.iter().map(|l| l.sku.clone()).collect();
    let products = d1::catalog::many_cached(db, &skus).await?;
    let view = CartView::of(cart, &products).map_err(Problem::from)?;
    json(status, &view)
}
