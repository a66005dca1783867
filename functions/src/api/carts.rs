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
use crate::http::error::{ApiError, ApiResult};
use crate::http::problem::Problem;
use crate::http::{json, json_body, new_id, path_id};
use crate::objects::cart::{CartCommand, CartRefusal};
use crate::objects::cart_client::CartClient;
use crate::objects::stock_client::{StockClient, StockObjects};
use chrono::{Duration, Utc};
use serde::Serialize;
use futures_util::future::join_all;
use omniedge::access::cart_token::CartToken;
use omniedge::access::Principal;
use omniedge::catalog::Product;
use omniedge::inventory::ledger::{Allocation, Short, StockError};
use omniedge::locations::Location;
use omniedge::pricing::PricingError;
use omniedge::sales::cart::{Cart, CartChange, CartDraft, CartError, CartLine, CartUpdate, CartView, LineQuantity};
use omniedge::sales::origin::SalesOrigin;
use omniedge::shared::ids::{CartId, LocationId, Sku};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::workflows::ports::StockPort;
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
    let catalog = catalog_of(&db, &cart, None).await?;
    let view = CartView::of(&cart, &catalog).map_err(Problem::from)?;
    json(201, &Created { cart: view, cart_token: token.as_str() })
}

pub async fn get(id: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let cart = CartClient::for_cart(env, &id)?.send(CartCommand::Get).await?;
    admit(&cart, req, caller)?;
    let catalog = catalog_of(&d1::database(env)?, &cart, None).await?;
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

/// Sets a line's quantity, holding its units. Activity refreshes the other lines' holds
/// too, once they are past half their time (so a busy cart does not re-hold every line
/// on every click).
pub async fn put_line(id: &str, sku: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let sku = path_id(sku, Sku::parse)?;
    let LineQuantity { quantity } = json_body(req).await?;
    let carts = CartClient::for_cart(env, &id)?;
    let db = d1::database(env)?;
    let (cart, locations) = futures_util::try_join!(carts.send(CartCommand::Get), d1::locations::all(&db))?;
    admit(&cart, req, caller)?;
    let catalog = catalog_of(&db, &cart, Some(&sku)).await?;
    if !catalog.iter().any(|p| p.sku == sku) {
        return Err(Problem::not_found("sku", sku.as_str()).into());
    }
    // What the cart would refuse with the line as asked is refused before any unit is held.
    let asked = CartChange::SetLines { lines: vec![CartLine::unheld(sku.clone(), quantity)] };
    cart.clone().apply(asked, &catalog, Utc::now()).map_err(Problem::from)?;
    let lines = hold_lines(env, &cart, sku, quantity, &locations).await?;
    match send_change(&db, &carts, CartChange::SetLines { lines: lines.clone() }, catalog).await? {
        Ok((saved, catalog)) => respond(200, &saved, &catalog),
        Err(refusal) => {
            let ordered = matches!(refusal, CartRefusal::Refused(CartError::Closed(_)));
            put_back(env, &cart, &lines, ordered).await;
            Err(Problem::from(refusal).into())
        }
    }
}

/// Holds the asked line's units and refreshes the holds of the cart's other lines that
/// are past half their time. An older line whose stock is gone stays in the cart,
/// unheld (checkout will say so); if the asked line cannot be held, the refreshed holds
/// are put back as they were and the refusal answered.
async fn hold_lines(env: &Env, cart: &Cart, sku: Sku, quantity: PositiveQuantity, locations: &[Location]) -> ApiResult<Vec<CartLine>> {
    let eligible = cart.hold_locations(locations);
    let refresh_before = Utc::now() + Duration::seconds(cart.hold_seconds as i64 / 2);
    let stale: Vec<(Sku, PositiveQuantity)> = cart
        .lines
        .iter()
        .filter(|l| l.sku != sku && cart.hold_seconds > 0 && l.hold_expires_at.is_none_or(|at| at < refresh_before))
        .map(|l| (l.sku.clone(), l.quantity))
        .collect();
    let wanted = std::iter::once((sku, quantity)).chain(stale);
    let outcomes = join_all(wanted.enumerate().map(|(i, (sku, quantity))| {
        let eligible = &eligible;
        async move {
            match hold_line(env, cart, sku.clone(), quantity, eligible).await {
                Err(_) if i > 0 => Ok(CartLine::unheld(sku, quantity)),
                outcome => outcome,
            }
        }
    }))
    .await;
    let (held, refused): (Vec<_>, Vec<_>) = outcomes.into_iter().partition(Result::is_ok);
    let held: Vec<CartLine> = held.into_iter().flatten().collect();
    match refused.into_iter().find_map(Result::err) {
        Some(refusal) => {
            put_back(env, cart, &held, false).await;
            Err(refusal)
        }
        None => Ok(held),
    }
}

/// Holds a line's units where most are available, or (holds disabled) checks they exist.
async fn hold_line(env: &Env, cart: &Cart, sku: Sku, quantity: PositiveQuantity, eligible: &[LocationId]) -> ApiResult<CartLine> {
    let stock = StockClient::for_sku(env, &sku)?;
    if cart.hold_seconds == 0 {
        let levels = stock.view_for(&cart.hold_ref()).await?;
        let available: u32 = levels.iter().filter(|l| eligible.contains(&l.location_id)).map(|l| l.available).sum();
        if available < quantity.get() {
            let short = levels.into_iter().filter(|l| eligible.contains(&l.location_id)).map(|l| Short {
                location_id: l.location_id,
                requested: quantity.get(),
                available: l.available,
            });
            return Err(Problem::from(StockError::Shortage { short: short.collect() }).with("sku", &sku).into());
        }
        return Ok(CartLine::unheld(sku, quantity));
    }
    let expires_at = Utc::now() + Duration::seconds(cart.hold_seconds as i64);
    let held_at = stock
        .hold_anywhere(&cart.hold_ref(), quantity, eligible.to_vec(), expires_at)
        .await
        .map_err(|e| ApiError(e.0.with("sku", &sku)))?;
    Ok(CartLine { sku, quantity, held_at: Some(held_at), hold_expires_at: Some(expires_at) })
}

/// Puts back the holds this request took for `lines` after the change they were for
/// was refused: a line the cart had holds what it held until when it held it (if that
/// is still ahead); a new line, or any line of a cart that was ordered meanwhile, lets
/// go. Best effort: a hold that cannot be put back lapses at its time.
async fn put_back(env: &Env, before: &Cart, lines: &[CartLine], ordered: bool) {
    let (stock, reference) = (StockObjects { env, fault: None }, before.hold_ref());
    let now = Utc::now();
    join_all(lines.iter().filter(|line| line.held_at.is_some()).map(|line| {
        let (stock, reference) = (&stock, &reference);
        let previous = before
            .lines
            .iter()
            .find(|l| l.sku == line.sku && !ordered)
            .and_then(|l| Some((Allocation { location_id: l.held_at.clone()?, quantity: l.quantity }, l.hold_expires_at?)))
            .filter(|(_, expires_at)| *expires_at > now);
        async move {
            if let Some((allocation, expires_at)) = previous {
                if stock.hold(&line.sku, reference, &[allocation], expires_at).await.is_ok() {
                    return;
                }
            }
            if let Err(e) = stock.release(&line.sku, reference).await {
                worker::console_error!("could not let go of {reference:?} on {}: {e}", line.sku);
            }
        }
    }))
    .await;
}

pub async fn remove_line(id: &str, sku: &str, req: &Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CartId::parse)?;
    let sku = path_id(sku, Sku::parse)?;
    let change = CartChange::RemoveLine { sku: sku.clone() };
    let (cart, catalog) = read_and_change(env, &id, change, |cart| admit(cart, req, caller)).await?;
    StockClient::for_sku(env, &sku)?.release(&cart.hold_ref()).await?;
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
    let catalog = catalog_of(&db, &cart, None).await?;
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

/// The products of the cart's lines (and of `adding`), those that exist.
async fn catalog_of(db: &D1Database, cart: &Cart, adding: Option<&Sku>) -> ApiResult<Vec<Product>> {
    let skus: Vec<Sku> = cart.lines.iter().map(|l| l.sku.clone()).chain(adding.cloned()).collect();
    d1::catalog::many_cached(db, &skus).await
}

/// The cart with each line priced from `catalog`, and its subtotal.
fn respond(status: u16, cart: &Cart, catalog: &[Product]) -> ApiResult<Response> {
    let view = CartView::of(cart, catalog).map_err(Problem::from)?;
    json(status, &view)
}
