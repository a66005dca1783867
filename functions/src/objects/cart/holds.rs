//! Setting a cart line inside the cart's own object, in the one call a storefront's
//! add-to-cart makes: admit the caller against the cart as it is, refuse what the cart
//! would refuse before any unit is held, hold the line's units in its SKU's stock
//! object, and save. Activity refreshes the other lines' holds too, once they are past
//! half their time (a busy cart does not re-hold every line on every click). Holds
//! taken for a change the cart then refuses are put back as they were.

use super::{CartObject, CartRefusal};
use crate::config;
use crate::d1;
use crate::http::error::ApiResult;
use crate::objects::stock_client::StockObjects;
use chrono::{Duration, Utc};
use futures_util::future::join_all;
use omniedge::access::cart_token::CartToken;
use omniedge::access::Principal;
use omniedge::inventory::ledger::{Allocation, Short, StockError};
use omniedge::inventory::scarcity::ScarceHolds;
use omniedge::locations::Location;
use omniedge::pricing::PricingError;
use omniedge::sales::cart::{Cart, CartChange, CartError, CartLine};
use omniedge::shared::ids::{LocationId, Sku};
use omniedge::shared::quantity::PositiveQuantity;
use omniedge::workflows::ports::{PortError, StockPort};
use worker::Env;

/// How many times a line is saved against a cart that other calls changed meanwhile.
const SAVE_ATTEMPTS: usize = 8;

impl CartObject {
    /// Sets `sku`'s line to `quantity` for `caller`, holding its units.
    pub(super) async fn put_line(
        &self,
        sku: Sku,
        quantity: PositiveQuantity,
        caller: &Principal,
        token: Option<&CartToken>,
    ) -> ApiResult<Result<Cart, CartRefusal>> {
        let Some(cart) = self.load()? else {
            return Ok(Err(CartRefusal::NoSuchCart(self.cart_id()?)));
        };
        if let Err(denied) = cart.admit(caller, token) {
            return Ok(Err(CartRefusal::Denied(denied)));
        }
        let db = d1::database(&self.env)?;
        let (mut catalog, locations) = futures_util::try_join!(d1::catalog::of_cart(&db, &cart, Some(&sku)), d1::locations::all(&db))?;
        if !catalog.iter().any(|p| p.sku == sku) {
            return Ok(Err(CartRefusal::UnknownSku(sku)));
        }
        let asked = CartChange::SetLines { lines: vec![CartLine::unheld(sku.clone(), quantity)] };
        if let Err(refused) = cart.clone().apply(asked, &catalog, Utc::now()) {
            return Ok(Err(CartRefusal::Refused(refused)));
        }
        let lines = match hold_lines(&self.env, &cart, sku.clone(), quantity, &locations).await? {
            Ok(lines) => lines,
            Err(refusal) => return Ok(Err(refusal)),
        };
        // Other calls may have changed the cart while its units were being held: the
        // line is saved against the cart as it is now.
        let change = CartChange::SetLines { lines: lines.clone() };
        let mut attempt = 1;
        let refused = loop {
            let Some(mut current) = self.load()? else {
                return Ok(Err(CartRefusal::NoSuchCart(self.cart_id()?)));
            };
            match current.apply(change.clone(), &catalog, Utc::now()) {
                Ok(()) => {
                    self.save(&current)?;
                    return Ok(Ok(current));
                }
                Err(CartError::Unpriced(PricingError::UnknownProduct { sku: unpriced }))
                    if attempt < SAVE_ATTEMPTS && !catalog.iter().any(|p| p.sku == unpriced) =>
                {
                    attempt += 1;
                    catalog = d1::catalog::of_cart(&db, &current, Some(&sku)).await?;
                }
                Err(refused) => break refused,
            }
        };
        put_back(&self.env, &cart, &lines, matches!(refused, CartError::Closed(_))).await;
        Ok(Err(CartRefusal::Refused(refused)))
    }
}

/// Holds the asked line's units and refreshes the holds of the cart's other lines that
/// are past half their time. An older line whose stock is gone stays in the cart,
/// unheld (checkout will say so); if the asked line cannot be held, the refreshed holds
/// are put back as they were and the refusal answered.
async fn hold_lines(env: &Env, cart: &Cart, sku: Sku, quantity: PositiveQuantity, locations: &[Location]) -> ApiResult<Result<Vec<CartLine>, CartRefusal>> {
    let eligible = cart.hold_locations(locations);
    let refresh_before = Utc::now() + Duration::seconds(cart.hold_seconds as i64 / 2);
    let stale: Vec<(Sku, PositiveQuantity)> = cart
        .lines
        .iter()
        .filter(|l| l.sku != sku && cart.hold_seconds > 0 && l.hold_expires_at.is_none_or(|at| at < refresh_before))
        .map(|l| (l.sku.clone(), l.quantity))
        .collect();
    let wanted: Vec<(Sku, PositiveQuantity)> = std::iter::once((sku, quantity)).chain(stale).collect();
    let stock = StockObjects { env, fault: None };
    let scarce = config::scarce_holds(env);
    let outcomes = join_all(wanted.iter().map(|(sku, quantity)| hold_line(&stock, cart, sku, *quantity, &eligible, scarce))).await;
    let mut held = Vec::with_capacity(wanted.len());
    let mut failure = None;
    for (i, ((sku, quantity), outcome)) in wanted.into_iter().zip(outcomes).enumerate() {
        match outcome {
            Ok(line) => held.push(line),
            Err(_) if i > 0 => held.push(CartLine::unheld(sku, quantity)),
            Err(e) => failure = Some((sku, e)),
        }
    }
    let Some((sku, failure)) = failure else {
        return Ok(Ok(held));
    };
    put_back(env, cart, &held, false).await;
    match failure {
        PortError::Refused(refusal) => Ok(Err(CartRefusal::Short { sku, refusal })),
        PortError::Unavailable(u) => Err(u.into()),
    }
}

/// Holds a line's units where most are available (for less long while the SKU is
/// scarce), or (holds disabled) checks they exist.
async fn hold_line(
    stock: &StockObjects<'_>,
    cart: &Cart,
    sku: &Sku,
    quantity: PositiveQuantity,
    eligible: &[LocationId],
    scarce: Option<ScarceHolds>,
) -> Result<CartLine, PortError<StockError>> {
    if cart.hold_seconds == 0 {
        let levels = stock.levels_for(sku, &cart.hold_ref()).await?;
        let levels: Vec<_> = levels.into_iter().filter(|l| eligible.contains(&l.location_id)).collect();
        if levels.iter().map(|l| l.available).sum::<u32>() < quantity.get() {
            let short = levels.into_iter().map(|l| Short { location_id: l.location_id, requested: quantity.get(), available: l.available });
            return Err(PortError::Refused(StockError::Shortage { short: short.collect() }));
        }
        return Ok(CartLine::unheld(sku.clone(), quantity));
    }
    let asked = Utc::now() + Duration::seconds(cart.hold_seconds as i64);
    let held = stock.hold_cart_line(sku, &cart.hold_ref(), quantity, eligible.to_vec(), asked, scarce).await?;
    Ok(CartLine { sku: sku.clone(), quantity, held_at: Some(held.location_id), hold_expires_at: Some(held.expires_at) })
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
