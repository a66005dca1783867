//! Carts from any channel: create, read with prices, set and remove lines (holding
//! their units), attach contact details or the customer who logged in. A change is
//! refused before anything is written when the cart would refuse it or would no longer
//! price afterwards; the cart's object checks it again as it saves. Holds taken for a
//! change the cart then refuses are put back as they were. Every new cart gets a
//! capability token, answered once (and again when rotated); publishable keys reach a
//! guest cart only with it (`X-Cart-Token`), a shopper's cart only with their session.

use crate::api::customers;
use crate::config;
use crate::d1;
use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use crate::http::{json, json_body, new_id, path_id};
use crate::objects::cart::{CartCommand, CartRefusal};
use crate::objects::cart_client::CartClient;
use crate::objects::stock_client::StockClient;
use chrono::Utc;
use serde::Serialize;
use omniedge::access::cart_token::CartToken;
use omniedge::access::Principal;
use omniedge::catalog::Product;
use omniedge::pricing::PricingError;
use omniedge::sales::cart::{Cart, CartChange, CartDraft, CartError, CartUpdate, CartView, LineQuantity};
use omniedge::sales::origin::SalesOrigin;
use omniedge::shared::ids::{CartId, Sku};
use worker::{D1Database, Env, Request, Response};

/// A new cart with its capability token, shown only in this answer.
#[derive(Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    cart: CartView,
    cart_token: &'a str,
}

/// The answer to a rotation: the cart's new token.
#[derive(Serialize)]
struct Rotated<'a> {
    cart_id: &'a CartId,
    cart_token: &'a str,
}

/// A fresh capability token.
fn mint_token() -> CartToken {
    CartToken::from_random_hex(&format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()))
}

/// The cart token a caller presents, if any.
fn presented_token(req: &Request) -> ApiResult<Option<CartToken>> {
    Ok(req.headers().get("x-cart-token")?.map(|t| CartToken::presented(&t)))
}

/// Refuses a cart to a caller it does not admit (see `Cart::admit`).
pub fn admit(cart: &Cart, req: &Request, caller: &Principal) -> ApiResult<()> {
    Ok(cart.admit(caller, presented_token(req)?.as_ref())?)
}

pub async fn create(req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let mut draft: CartDraft = json_body(req).await?;
    let origin = SalesOrigin::for_caller(caller, draft.channel, draft.location_id.clone()).map_err(Problem::from)?;
    draft.customer_id = caller.cart_customer(draft.customer_id.take())?;
    let db = d1::database(env)?;
    if let Some(store) = origin.store_location() {
        d1::locations::get(&db, store).await?.ok_or_else(|| Problem::not_found("location", store.as_str()))?;
    }
    if let Some(customer) = &draft.customer_id {
        customers::find(&db, customer).await?;
    }
    let default_hold = config::cart_hold_seconds(env);
    let hold_seconds = draft.hold_seconds.map_or(default_hold, |asked| asked.min(default_hold));
    let id = CartId::parse(&new_id("cart")).map_err(|_| Problem::internal())?;
    let token = mint_token();
    let cart = Cart::open(id.clone(), origin, draft, &token, hold_seconds, config::cart_limits(env), Utc::now());
    let cart = CartClient::for_cart(env, &id)?.send(CartCommand::Create { cart }).await?;
    d1::carts::index(&db, &cart).await?;
    let catalog = d1::catalog::of_cart(&db, &cart, None).await?;
    let view = CartView::of(&cart, &catalog).map_err(Problem::from)?;
    json(201, &Created { cart: view, cart_token: token.as_str() })
}

pub async fn get(id: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let cart = CartClient::for_cart(env, &id)?.send(CartCommand::Get).await?;
    admit(&cart, req, caller)?;
    let catalog = d1::catalog::of_cart(&d1::database(env)?, &cart, None).await?;
    respond(200, &cart, &catalog)
}

/// Replaces the cart's token: the old one stops working, the new one is answered once.
pub async fn rotate_token(id: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let token = mint_token();
    let change = CartChange::RotateToken { token_hash: token.hash() };
    read_and_change(env, &id, change, |cart| admit(cart, req, caller)).await?;
    json(200, &Rotated { cart_id: &id, cart_token: token.as_str() })
}

/// Sets a line's quantity, holding its units: one call to the cart's object, which
/// admits the caller and holds the units itself (see `objects::cart`).
pub async fn put_line(id: &str, sku: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let sku = path_id(sku, Sku::parse)?;
    let LineQuantity { quantity } = json_body(req).await?;
    let command = CartCommand::PutLine { sku, quantity, caller: caller.clone(), token: presented_token(req)? };
    let cart = CartClient::for_cart(env, &id)?.send(command).await?;
    let catalog = d1::catalog::of_cart(&d1::database(env)?, &cart, None).await?;
    respond(200, &cart, &catalog)
}

pub async fn remove_line(id: &str, sku: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let sku = path_id(sku, Sku::parse)?;
    let change = CartChange::RemoveLine { sku: sku.clone() };
    let (cart, catalog) = read_and_change(env, &id, change, |cart| admit(cart, req, caller)).await?;
    StockClient::for_sku(env, &sku).await?.release(&cart.hold_ref()).await?;
    respond(200, &cart, &catalog)
}

/// Attaches contact details, or the customer: a shopper session claims a guest cart (it
/// holds the cart's token) by naming its own customer.
pub async fn update(id: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let mut update: CartUpdate = json_body(req).await?;
    if update.customer_id.is_some() {
        update.customer_id = caller.cart_customer(update.customer_id.take())?;
    }
    let db = d1::database(env)?;
    if let Some(customer) = &update.customer_id {
        customers::find(&db, customer).await?;
    }
    let change = CartChange::Update { update };
    let (cart, catalog) = read_and_change(env, &id, change, |cart| admit(cart, req, caller)).await?;
    d1::carts::index(&db, &cart).await?;
    respond(200, &cart, &catalog)
}

/// Reads the cart and, if `admit` lets the caller at it, has its object apply `change`
/// priced from the catalog of its lines; a refusal is answered as its problem.
async fn read_and_change(
    env: &Env,
    id: &CartId,
    change: CartChange,
    admit: impl FnOnce(&Cart) -> ApiResult<()>,
) -> ApiResult<(Cart, Vec<Product>)> {
    let carts = CartClient::for_cart(env, id)?;
    let db = d1::database(env)?;
    let cart = carts.send(CartCommand::Get).await?;
    admit(&cart)?;
    let catalog = d1::catalog::of_cart(&db, &cart, None).await?;
    send_change(&db, &carts, change, catalog).await?.map_err(|refusal| Problem::from(refusal).into())
}

/// Has the cart's object apply `change`, priced from `catalog`. When other requests
/// added lines meanwhile whose products `catalog` lacks, the cart is read again, their
/// products are added and the change is sent again; the cart comes back with the
/// catalog it was priced from.
async fn send_change(
    db: &D1Database,
    carts: &CartClient,
    change: CartChange,
    mut catalog: Vec<Product>,
) -> ApiResult<Result<(Cart, Vec<Product>), CartRefusal>> {
    loop {
        let command = CartCommand::Change { change: change.clone(), catalog: catalog.clone() };
        let refusal = match carts.ask(command).await? {
            Ok(cart) => return Ok(Ok((cart, catalog))),
            Err(refusal) => refusal,
        };
        let priced = |sku: &Sku| catalog.iter().any(|p| &p.sku == sku);
        if !matches!(&refusal, CartRefusal::Refused(CartError::Unpriced(PricingError::UnknownProduct { sku })) if !priced(sku)) {
            return Ok(Err(refusal));
        }
        let cart = carts.send(CartCommand::Get).await?;
        let lacking: Vec<Sku> = cart.lines.iter().map(|l| l.sku.clone()).filter(|sku| !priced(sku)).collect();
        let found = d1::catalog::many_cached(db, &lacking).await?;
        if found.is_empty() {
            return Ok(Err(refusal));
        }
        catalog.extend(found);
    }
}

/// The cart with each line priced from `catalog`, and its subtotal.
fn respond(status: u16, cart: &Cart, catalog: &[Product]) -> ApiResult<Response> {
    let view = CartView::of(cart, catalog).map_err(Problem::from)?;
    json(status, &view)
}
