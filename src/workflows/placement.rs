//! Placing an order from any channel: claim the Idempotency-Key, recording in the same
//! D1 write what the order owes should it never be written (every SKU's units voided)
//! and reading its products; allocate every line (pickup store, POS store, or the
//! nearest shipping locations) and price it; take the allocation in each SKU's stock,
//! held and committed in one call per SKU under the order's reference, all lines or
//! none; write the order with the effects it still owes (hand over at the till, close
//! the cart), its coupon redemption and the store credit it spends in one D1 write,
//! which forgives the voids; settle them.
//!
//! A placement allocates first from a guess: a pickup or an in-store sale, which can only
//! come from its one location, assumes the units are there; a delivery allocates from
//! recently read counts (a cache, plus the cart's own holds). The takes are the real
//! check: when one is refused (nothing is recorded then) the others are withdrawn, and
//! when the guess cannot cover the basket, the placement reads every SKU now and
//! allocates again (a bounded number of times), so an order is never refused while units
//! it could use are available, and in the usual case it makes no separate availability
//! read. A placement that dies between taking and writing leaves committed units and the
//! voids recorded with its claim: once the claim goes to a retry or is older than the
//! placement hold, the sweeper revokes it (the late placement can no longer write its
//! order) and applies the voids. One that dies after the write leaves an order whose
//! effects its retry, its next read or move, or the sweeper settle.

use crate::access::Principal;
use crate::customers::Contact;
use crate::inventory::ledger::{Allocation, Commitment, HoldRef, LocationLevel, OrderRef, StockError};
use crate::pricing::coupon::{Coupon, CouponCode};
use crate::pricing::{price_basket, DeliveryTariff, PricingError};
use crate::sales::allocation::{allocate, delivery_distance_km, per_sku, AllocatedLine, AllocationError, Availability, ShortLine};
use crate::sales::cart::{Cart, CartError};
use crate::sales::fulfilment::{FulfilmentError, FulfilmentRequest};
use crate::sales::order::{OrderStatus, PaymentError};
use crate::sales::origin::{OriginError, SalesOrigin};
use crate::sales::store_credit::{self, StoreCreditError};
use crate::sales::placement::{direct_hold_ref, order_ref, BasketSource, InvalidOrder, Order, OrderDraft};
use crate::locations::Location;
use crate::catalog::Product;
use crate::shared::ids::{CartId, CustomerId, LocationId, OrderId, Sku};
use crate::shared::quantity::PositiveQuantity;
use crate::workflows::effects::{owed_once_taken, owed_while_placing};
use crate::workflows::ports::{
    CartPort, Claim, ClaimKey, ClaimRefused, OrderStore, Placing, PortError, Ports, StockPort, Unavailable, WriteRefused,
};
use crate::workflows::settlement::{settle, settle_order, SettleError};
use chrono::{DateTime, Utc};
use futures_util::future::try_join_all;
use std::collections::HashMap;

/// How many times a placement allocates before a refused hold is its answer.
pub const MAX_ALLOCATION_ATTEMPTS: usize = 8;

/// What placing an order needs besides the ports.
#[derive(Debug, Clone)]
pub struct PlacementRequest {
    /// A fresh id for the order (the caller owns randomness), never that of another
    /// attempt: what an attempt owes while placing is recorded under it.
    pub order_id: OrderId,
    pub draft: OrderDraft,
    pub caller: Principal,
    pub claim: ClaimKey,
    pub tariff: DeliveryTariff,
}

/// A placed order: new, or the answer of an earlier placement with the same key.
#[derive(Debug, Clone, PartialEq)]
pub enum Placed {
    New(Order),
    Replayed(Order),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlacementError {
    #[error(transparent)]
    Order(#[from] InvalidOrder),
    #[error(transparent)]
    Origin(#[from] OriginError),
    #[error(transparent)]
    Fulfilment(#[from] FulfilmentError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error("no cart {0}")]
    CartNotFound(CartId),
    #[error(transparent)]
    Allocation(#[from] AllocationError),
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error(transparent)]
    Stock(StockError),
    #[error("no coupon {0}")]
    CouponNotFound(CouponCode),
    #[error("no customer {0}")]
    CustomerNotFound(CustomerId),
    #[error("the coupon has no redemptions left")]
    CouponUsedUp(Option<CouponCode>),
    #[error("this cart was just ordered by another request")]
    CartJustOrdered(Option<CartId>),
    #[error(transparent)]
    StoreCredit(#[from] StoreCreditError),
    #[error("the customer's store credit balance is less than the order spends")]
    StoreCreditShort(Option<CustomerId>),
    #[error(transparent)]
    Claim(ClaimRefused),
    #[error(transparent)]
    Settle(#[from] SettleError),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

impl PlacementError {
    /// Whether the domain refused (nothing was written), as opposed to a failure midway.
    fn is_refusal(&self) -> bool {
        !matches!(self, PlacementError::Unavailable(_) | PlacementError::Settle(_))
    }
}

/// Places an order, or answers the order an earlier placement with the same key placed
/// (settling what it still owes first).
pub async fn place<P: Ports>(ports: &P, request: PlacementRequest) -> Result<Placed, PlacementError> {
    let PlacementRequest { order_id, draft, caller, claim, tariff } = request;
    let basket = basket(ports, &caller, &draft, &order_id).await?;
    let pos = match &caller {
        Principal::Store { location_id, .. } => Some(location_id.clone()),
        _ => basket.origin.store_location().cloned(),
    };
    let fulfilment = draft.fulfilment.clone().resolve(pos)?;
    draft.payment.check_fits(fulfilment.kind())?;
    let skus = basket.skus();
    let now = ports.now();
    // What the order owes should it never be written is recorded with the claim, before
    // any units are taken; the reads run meanwhile.
    let placing = Placing { owed: owed_while_placing(&order_id, &skus), order: order_id.clone(), skus };
    let guess = async {
        match fulfilment.location_id() {
            Some(at) => Ok(as_if_there(&basket.lines, at)),
            None => recent_availability(ports, &basket, now).await,
        }
    };
    let (claimed, inputs, guess) = futures_util::join!(ports.orders().claim(&claim, &placing), inputs(ports.orders(), draft.coupon_code.as_ref()), guess);
    let claimed = match claimed {
        Ok(claimed) => claimed,
        Err(PortError::Refused(refused)) => return Err(PlacementError::Claim(refused)),
        Err(PortError::Unavailable(u)) => return Err(u.into()),
    };
    if let Claim::Replay(order) = claimed.claim {
        settle_order(ports, &order.id).await?;
        return Ok(Placed::Replayed(*order));
    }
    let claimed = Claimed { basket, fulfilment, products: claimed.products, inputs: inputs?, guess: guess?, now };
    match place_claimed(ports, order_id.clone(), draft, caller, &claim, tariff, claimed).await {
        Ok(order) => Ok(Placed::New(order)),
        Err(error) => {
            // A refused placement took no units (it withdrew what it took): its claim
            // and its voids go. One that failed midway leaves them for the sweeper.
            if error.is_refusal() {
                ports.orders().let_go(&claim, &order_id).await?;
            }
            Err(error)
        }
    }
}

/// The lines being ordered, where they come from and whose holds they may use.
struct Basket {
    origin: SalesOrigin,
    lines: Vec<(Sku, PositiveQuantity)>,
    hold: HoldRef,
    cart: Option<Cart>,
}

impl Basket {
    fn skus(&self) -> Vec<Sku> {
        self.lines.iter().map(|(sku, _)| sku.clone()).collect()
    }

    /// Until when a SKU's units taken and then withdrawn are held again: a cart's, as
    /// long as its line's hold was to last; a direct order's are not held again.
    fn keep(&self, sku: &Sku) -> Option<(&HoldRef, DateTime<Utc>)> {
        let cart = self.cart.as_ref()?;
        let until = cart.lines.iter().filter(|l| &l.sku == sku).filter_map(|l| l.hold_expires_at).max()?;
        Some((&self.hold, until))
    }
}

/// What placing reads from D1 besides stock and products.
struct Inputs {
    locations: Vec<Location>,
    coupon: Option<Coupon>,
}

/// What a placement that owns its claim has read.
struct Claimed {
    basket: Basket,
    fulfilment: FulfilmentRequest,
    products: Vec<Product>,
    inputs: Inputs,
    guess: Availability,
    now: DateTime<Utc>,
}

async fn place_claimed<P: Ports>(
    ports: &P,
    order_id: OrderId,
    draft: OrderDraft,
    caller: Principal,
    claim: &ClaimKey,
    tariff: DeliveryTariff,
    claimed: Claimed,
) -> Result<Order, PlacementError> {
    let Claimed { basket, fulfilment, products, inputs, guess, now } = claimed;
    if let Some(cart) = &basket.cart {
        cart.check_open()?;
    }
    let contact = draft.contact.clone().or_else(|| basket.cart.as_ref().map(|c| c.contact.clone())).unwrap_or_default();
    let named = draft.customer_id.clone().or_else(|| basket.cart.as_ref().and_then(|c| c.customer_id.clone()));
    // Store credit is spent only by a customer named (not one found by email). Orders
    // are placed by server keys only, which act for their customers.
    if draft.store_credit.is_some() && named.is_none() {
        return Err(StoreCreditError::NoCustomer.into());
    }
    let customer_id = customer_for(ports.orders(), named, &contact).await?;

    let reference = order_ref(&order_id);
    let catalog: HashMap<Sku, Product> = products.into_iter().map(|p| (p.sku.clone(), p)).collect();
    let price = |allocated: &[AllocatedLine]| {
        let distance = fulfilment.destination().and_then(|to| delivery_distance_km(allocated, &inputs.locations, &to));
        price_basket(&basket.lines, &catalog, inputs.coupon.as_ref(), fulfilment.kind(), distance, &tariff, now)
    };
    let mut availability = guess;
    let mut read_now = false;
    let mut attempt = 1;
    let (allocated, (lines, totals), credit) = loop {
        let allocated = match allocate(&basket.lines, &availability, &inputs.locations, &fulfilment) {
            Ok(allocated) => allocated,
            // A guess is never the reason for a refusal: read now and allocate again.
            Err(AllocationError::Short { .. }) if !read_now => {
                availability = availability_of(ports, &basket).await?;
                read_now = true;
                continue;
            }
            Err(refused) => return Err(refused.into()),
        };
        let priced = price(&allocated)?;
        let credit = draft.store_credit.as_ref().map(|asked| store_credit::apply(asked, &priced.1)).transpose()?;
        match take_all(ports, &basket, &reference, &allocated).await {
            Ok(()) => break (allocated, priced, credit),
            Err(Reservation::Short(_)) if attempt < MAX_ALLOCATION_ATTEMPTS => {
                // Another order took units since they were read: look again.
                attempt += 1;
                availability = availability_of(ports, &basket).await?;
                read_now = true;
            }
            Err(Reservation::Short(short)) => return Err(AllocationError::Short { short }.into()),
            Err(Reservation::Failed(error)) => return Err(error),
        }
    };

    let mut order = Order {
        id: order_id,
        origin: basket.origin.clone(),
        status: OrderStatus::Placed,
        cart_id: basket.cart.as_ref().map(|c| c.id.clone()),
        customer_id,
        contact,
        fulfilment,
        payment: draft.payment,
        coupon_code: inputs.coupon.as_ref().map(|c| c.code.clone()),
        lines,
        allocations: allocated,
        totals,
        store_credit: credit,
        placed_at: now,
        history: Vec::new(),
    };
    order.record(OrderStatus::initial(order.fulfilment.kind()), now, caller.key_id());
    let stored = match ports.orders().insert(&order, &owed_once_taken(&order), claim).await {
        Ok(stored) => stored,
        Err(PortError::Refused(refused)) => {
            withdraw(ports, &basket, &reference, per_sku(&order.allocations).keys()).await?;
            return Err(match refused {
                WriteRefused::CouponUsedUp => PlacementError::CouponUsedUp(order.coupon_code),
                WriteRefused::CartAlreadyOrdered => PlacementError::CartJustOrdered(order.cart_id),
                WriteRefused::StoreCreditShort => PlacementError::StoreCreditShort(order.customer_id),
                // The retry that took the key over answers for it; this attempt wrote nothing.
                WriteRefused::ClaimLost => PlacementError::Claim(ClaimRefused::InUse),
            });
        }
        // The write may or may not have happened: if not, the voids recorded with the
        // claim put the units back once the claim is given up for dead.
        Err(PortError::Unavailable(u)) => return Err(u.into()),
    };
    // The order is placed whatever happens next: what is still owed is settled later.
    let _ = settle(ports, stored).await;
    Ok(order)
}

async fn basket<P: Ports>(ports: &P, caller: &Principal, draft: &OrderDraft, order_id: &OrderId) -> Result<Basket, PlacementError> {
    match draft.basket()? {
        BasketSource::Cart(cart_id) => {
            // Whether it is still open is checked once the claim is owned: a retry of a
            // placement that closed it answers that placement's order.
            let cart = ports.carts().cart(&cart_id).await?.ok_or(PlacementError::CartNotFound(cart_id))?;
            let lines = cart.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
            Ok(Basket { origin: cart.origin.clone(), lines, hold: cart.hold_ref(), cart: Some(cart) })
        }
        BasketSource::Lines(lines) => {
            let origin = SalesOrigin::for_caller(caller, draft.channel, draft.location_id.clone())?;
            Ok(Basket { origin, lines, hold: direct_hold_ref(order_id), cart: None })
        }
    }
}

async fn inputs<S: OrderStore>(store: &S, coupon: Option<&CouponCode>) -> Result<Inputs, PlacementError> {
    let coupon = async {
        match coupon {
            Some(code) => store.coupon(code).await?.map(Some).ok_or_else(|| PlacementError::CouponNotFound(code.clone())),
            None => Ok(None),
        }
    };
    let (locations, coupon) = futures_util::try_join!(async { Ok::<_, PlacementError>(store.locations().await?) }, coupon)?;
    Ok(Inputs { locations, coupon })
}

/// The customer an order belongs to: the one named, else the one with the contact's email.
async fn customer_for<S: OrderStore>(store: &S, named: Option<CustomerId>, contact: &Contact) -> Result<Option<CustomerId>, PlacementError> {
    if let Some(id) = named {
        return if store.customer_exists(&id).await? { Ok(Some(id)) } else { Err(PlacementError::CustomerNotFound(id)) };
    }
    Ok(match &contact.email {
        Some(email) => store.customer_with_email(email).await?,
        None => None,
    })
}

/// Available units per SKU and location read now, counting what the basket's hold
/// already holds as its own.
async fn availability_of<P: Ports>(ports: &P, basket: &Basket) -> Result<Availability, PlacementError> {
    let skus = basket.skus();
    let levels = try_join_all(skus.iter().map(|sku| ports.stock().levels_for(sku, &basket.hold))).await?;
    Ok(available_by_location(skus, levels))
}

/// Each SKU's available units per location, from its levels.
fn available_by_location(skus: Vec<Sku>, levels: Vec<Vec<LocationLevel>>) -> Availability {
    skus.into_iter()
        .zip(levels)
        .map(|(sku, levels)| (sku, levels.into_iter().map(|l| (l.location_id, l.available)).collect()))
        .collect()
}

/// Availability from recently read counts, with the basket's own live holds (a cart's)
/// counted as its own: what a delivery allocates from first.
async fn recent_availability<P: Ports>(ports: &P, basket: &Basket, now: DateTime<Utc>) -> Result<Availability, PlacementError> {
    let skus = basket.skus();
    let levels = try_join_all(skus.iter().map(|sku| ports.stock().recent_levels(sku))).await?;
    let mut guess = available_by_location(skus, levels);
    let own = basket.cart.iter().flat_map(|cart| &cart.lines).filter(|l| l.hold_expires_at.is_some_and(|until| until > now));
    for line in own {
        if let Some(at) = &line.held_at {
            *guess.entry(line.sku.clone()).or_default().entry(at.clone()).or_default() += line.quantity.get();
        }
    }
    Ok(guess)
}

/// Availability that assumes every line is there at `at`: what a single-location
/// placement tries first (its hold is the real check).
fn as_if_there(lines: &[(Sku, PositiveQuantity)], at: &LocationId) -> Availability {
    let mut assumed = Availability::new();
    for (sku, quantity) in lines {
        *assumed.entry(sku.clone()).or_default().entry(at.clone()).or_default() += quantity.get();
    }
    assumed
}

enum Reservation {
    /// Some SKU could not be taken where it was allocated.
    Short(Vec<ShortLine>),
    Failed(PlacementError),
}

/// Takes every SKU's allocation at once (held and committed in one call each); on any
/// refusal withdraws what was taken (a cart holds it again) and names the short lines.
async fn take_all<P: Ports>(ports: &P, basket: &Basket, order: &OrderRef, allocated: &[AllocatedLine]) -> Result<(), Reservation> {
    let by_sku: Vec<(Sku, Vec<Allocation>)> = per_sku(allocated).into_iter().collect();
    let taken = ports.stock().take(order, &basket.hold, &by_sku).await;
    let mut committed = Vec::new();
    let mut short = Vec::new();
    let mut failed = None;
    for ((sku, allocations), outcome) in by_sku.iter().zip(taken) {
        match outcome {
            Ok(Commitment::Committed { allocations: taken }) => {
                committed.push(sku);
                if taken != *allocations {
                    failed = failed.or(Some(lost()));
                }
            }
            // Voided: the placement was given up for dead while it was slow.
            Ok(_) => failed = failed.or(Some(lost())),
            Err(PortError::Refused(StockError::Shortage { short: refused })) => short.push(ShortLine::from_refused_hold(sku.clone(), &refused)),
            Err(PortError::Refused(other)) => failed = failed.or(Some(PlacementError::Stock(other))),
            Err(PortError::Unavailable(u)) => failed = Some(u.into()),
        }
    }
    if short.is_empty() && failed.is_none() {
        return Ok(());
    }
    withdraw(ports, basket, order, committed).await.map_err(Reservation::Failed)?;
    match failed {
        Some(error) => Err(Reservation::Failed(error)),
        None => Err(Reservation::Short(short)),
    }
}

/// What a placement answers when its claim was given up for dead or went to a retry: the
/// retry answers for the key; this attempt writes nothing.
fn lost() -> PlacementError {
    PlacementError::Claim(ClaimRefused::InUse)
}

/// Withdraws what the order took of these SKUs (a cart holds it again).
async fn withdraw<'a, P: Ports>(ports: &P, basket: &Basket, order: &OrderRef, skus: impl IntoIterator<Item = &'a Sku>) -> Result<(), PlacementError> {
    let lines: Vec<_> = skus.into_iter().map(|sku| (sku.clone(), basket.keep(sku).map(|(hold, until)| (hold.clone(), until)))).collect();
    Ok(ports.stock().withdraw(order, &lines).await?)
}
