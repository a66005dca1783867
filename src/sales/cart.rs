//! Carts: what a shopper intends to buy, started in any channel and finished in any
//! other. While a line sits in an open cart its units are held (see `inventory::ledger`),
//! for a time that activity refreshes; an ordered cart is closed for good. A shopper's
//! change is taken only if the cart still prices afterwards; a refused one changes nothing.

use crate::access::cart_token::{CartToken, CartTokenHash};
use crate::access::{AccessError, Principal};
use crate::shared::channel::Channel;
use crate::sales::origin::SalesOrigin;
use crate::catalog::Product;
use crate::locations::Location;
use crate::shared::money::Money;
use crate::pricing::{price_lines_with_subtotal, PricedLine, PricingError};
use crate::inventory::ledger::HoldRef;
use crate::customers::Contact;
use crate::shared::ids::{CartId, CustomerId, LocationId, OrderId, Sku};
use crate::shared::quantity::PositiveQuantity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most distinct SKUs one cart may carry, whatever the deployment says.
pub const MAX_LINES: u32 = 100;

/// How much one cart may hold: a storefront (or a bot behind it) cannot hoard a product
/// by filling one cart. Set per deployment; a cart keeps the limits it was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLimits {
    /// Distinct SKUs, at most [`MAX_LINES`].
    pub max_lines: u32,
    /// Units of one SKU.
    pub max_units_per_sku: u32,
}

impl Default for CartLimits {
    fn default() -> Self {
        CartLimits { max_lines: MAX_LINES, max_units_per_sku: 10 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: PositiveQuantity,
    /// Where the line's units are held, while they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_at: Option<LocationId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<DateTime<Utc>>,
}

impl CartLine {
    /// A line whose units are not held (holds disabled, or its stock is gone).
    pub fn unheld(sku: Sku, quantity: PositiveQuantity) -> Self {
        CartLine { sku, quantity, held_at: None, hold_expires_at: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CartStatus {
    Open,
    Ordered { order_id: OrderId },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    pub id: CartId,
    #[serde(flatten)]
    pub origin: SalesOrigin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub contact: Contact,
    pub lines: Vec<CartLine>,
    #[serde(flatten)]
    pub status: CartStatus,
    /// How long a line's units stay held after the last activity (0: not held).
    pub hold_seconds: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The hash of the cart's capability token (carts from before tokens have none, and
    /// are reachable by secret keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_hash: Option<CartTokenHash>,
    /// Carts from before limits have the defaults.
    #[serde(default)]
    pub limits: CartLimits,
}

/// Why a cart refuses a change (serializable, so the cart's object can answer it).
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartError {
    #[error("cart {0} was already ordered")]
    Closed(CartId),
    #[error("cart has no line for {0}")]
    NoSuchLine(Sku),
    #[error("a cart holds at most {max} different SKUs")]
    TooManyLines { max: u32 },
    #[error("a cart holds at most {max} units of {sku}")]
    TooManyUnits { sku: Sku, max: u32 },
    #[error("cart {cart} was ordered as {ordered}, not {asked}")]
    OrderedElsewhere { cart: CartId, ordered: OrderId, asked: OrderId },
    /// After the change the cart would not price from the catalog (e.g. lines in two currencies).
    #[error(transparent)]
    Unpriced(#[from] PricingError),
}

/// A change a shopper makes to an open cart, from any channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum CartChange {
    /// Sets lines' quantities (adding lines that are new) with where their units are held.
    SetLines { lines: Vec<CartLine> },
    RemoveLine { sku: Sku },
    /// Contact details, or the customer who logged in.
    Update { update: CartUpdate },
    /// A new capability token replaces the old one, which stops working.
    RotateToken { token_hash: CartTokenHash },
}

/// The body of `POST /v1/carts`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartDraft {
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub location_id: Option<LocationId>,
    #[serde(default)]
    pub customer_id: Option<CustomerId>,
    #[serde(default)]
    pub contact: Contact,
    /// Shorter holds than the deployment's default may be asked for (0 disables them).
    #[serde(default)]
    pub hold_seconds: Option<u32>,
}

/// The body of `PATCH /v1/carts/{id}`: a guest leaves contact details or logs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartUpdate {
    #[serde(default)]
    pub contact: Option<Contact>,
    #[serde(default)]
    pub customer_id: Option<CustomerId>,
}

/// The body of `PUT /v1/carts/{id}/lines/{sku}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    pub quantity: PositiveQuantity,
}

/// The reference under which a cart's units are held in every stock ledger.
pub fn cart_hold_ref(id: &CartId) -> HoldRef {
    HoldRef(format!("cart:{id}"))
}

impl Cart {
    pub fn open(id: CartId, origin: SalesOrigin, draft: CartDraft, token: &CartToken, hold_seconds: u32, limits: CartLimits, now: DateTime<Utc>) -> Self {
        Cart {
            id,
            origin,
            customer_id: draft.customer_id,
            contact: draft.contact,
            lines: Vec::new(),
            status: CartStatus::Open,
            hold_seconds,
            created_at: now,
            updated_at: now,
            token_hash: Some(token.hash()),
            limits,
        }
    }

    /// Whether `caller` may read or change this cart. Secret keys reach every cart from
    /// every channel. A publishable key reaches only carts of its own channel: a guest
    /// cart with the cart's token, a shopper's cart only with that shopper's session.
    pub fn admit(&self, caller: &Principal, token: Option<&CartToken>) -> Result<(), AccessError> {
        let Principal::Publishable { channel, shopper, .. } = caller else {
            return Ok(());
        };
        if self.origin.channel() != *channel {
            return Err(AccessError::OtherChannel { bound: *channel, asked: self.origin.channel() });
        }
        match (&self.customer_id, shopper) {
            (Some(owner), Some(shopper)) if owner == shopper => Ok(()),
            (Some(_), Some(_)) => Err(AccessError::OtherShopper),
            (Some(_), None) => Err(AccessError::ShopperSessionRequired),
            (None, _) => self.token_hash.as_ref().ok_or(AccessError::CartTokenInvalid)?.admits(token),
        }
    }

    fn ensure_open(&self) -> Result<(), CartError> {
        match self.status {
            CartStatus::Open => Ok(()),
            CartStatus::Ordered { .. } => Err(CartError::Closed(self.id.clone())),
        }
    }

    /// Fails unless the cart is still open.
    pub fn check_open(&self) -> Result<(), CartError> {
        self.ensure_open()
    }

    /// The reference under which this cart's units are held in every stock ledger.
    pub fn hold_ref(&self) -> HoldRef {
        cart_hold_ref(&self.id)
    }

    /// Where this cart's lines may be held: a store sale at its store; otherwise
    /// anywhere the shopper could get the units from (shipping or pickup locations).
    pub fn hold_locations(&self, locations: &[Location]) -> Vec<LocationId> {
        match self.origin.store_location() {
            Some(store) => vec![store.clone()],
            None => locations.iter().filter(|l| l.ships_orders || l.offers_pickup).map(|l| l.id.clone()).collect(),
        }
    }

    /// Applies a shopper's change if the cart still prices from `catalog` (the products
    /// of its lines) afterwards. A change the cart refuses, or one after which it would
    /// not price (lines in two currencies, too large a total), leaves it as it was; a
    /// change that makes an unpriced cart price again (removing the odd line) is taken.
    pub fn apply(&mut self, change: CartChange, catalog: &[Product], now: DateTime<Utc>) -> Result<(), CartError> {
        let mut changed = self.clone();
        match change {
            CartChange::SetLines { lines } => changed.set_lines(lines, now),
            CartChange::RemoveLine { sku } => changed.remove_line(&sku, now),
            CartChange::Update { update } => changed.update(update, now),
            CartChange::RotateToken { token_hash } => changed.ensure_open().map(|()| changed.token_hash = Some(token_hash)),
        }?;
        CartView::of(&changed, catalog)?;
        *self = changed;
        Ok(())
    }

    /// Sets several lines at once (used when activity refreshes every hold).
    fn set_lines(&mut self, lines: Vec<CartLine>, now: DateTime<Utc>) -> Result<(), CartError> {
        lines.into_iter().try_for_each(|line| self.set_line(line, now))
    }

    /// Sets a line's quantity (adding the line if new), with where it is now held.
    pub fn set_line(&mut self, line: CartLine, now: DateTime<Utc>) -> Result<(), CartError> {
        self.ensure_open()?;
        let max = self.limits.max_units_per_sku;
        if line.quantity.get() > max {
            return Err(CartError::TooManyUnits { sku: line.sku, max });
        }
        let max = self.limits.max_lines.min(MAX_LINES);
        let full = self.lines.len() >= max as usize;
        match self.lines.iter_mut().find(|l| l.sku == line.sku) {
            Some(existing) => *existing = line,
            None if full => return Err(CartError::TooManyLines { max }),
            None => self.lines.push(line),
        }
        self.updated_at = now;
        Ok(())
    }

    fn remove_line(&mut self, sku: &Sku, now: DateTime<Utc>) -> Result<(), CartError> {
        self.ensure_open()?;
        let before = self.lines.len();
        self.lines.retain(|l| &l.sku != sku);
        if self.lines.len() == before {
            return Err(CartError::NoSuchLine(sku.clone()));
        }
        self.updated_at = now;
        Ok(())
    }

    /// Attaches contact details or the customer who logged in; the cart stays theirs.
    fn update(&mut self, update: CartUpdate, now: DateTime<Utc>) -> Result<(), CartError> {
        self.ensure_open()?;
        if let Some(contact) = update.contact {
            self.contact = contact;
        }
        if update.customer_id.is_some() {
            self.customer_id = update.customer_id;
        }
        self.updated_at = now;
        Ok(())
    }

    /// Closes the cart for an order; closing again for the same order is a no-op.
    pub fn close(&mut self, order_id: OrderId, now: DateTime<Utc>) -> Result<(), CartError> {
        match &self.status {
            CartStatus::Ordered { order_id: ordered } if *ordered == order_id => Ok(()),
            CartStatus::Ordered { order_id: ordered } => {
                Err(CartError::OrderedElsewhere { cart: self.id.clone(), ordered: ordered.clone(), asked: order_id })
            }
            CartStatus::Open => {
                self.status = CartStatus::Ordered { order_id };
                self.updated_at = now;
                Ok(())
            }
        }
    }
}

/// A cart as a storefront shows it: every line priced from the catalog, and the subtotal
/// (absent while the cart is empty).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartView {
    pub id: CartId,
    #[serde(flatten)]
    pub origin: SalesOrigin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub contact: Contact,
    #[serde(flatten)]
    pub status: CartStatus,
    pub lines: Vec<CartLineView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtotal: Option<Money>,
    pub hold_seconds: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CartLineView {
    #[serde(flatten)]
    pub priced: PricedLine,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_at: Option<LocationId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<DateTime<Utc>>,
}

impl CartView {
    pub fn of(cart: &Cart, products: &[Product]) -> Result<Self, PricingError> {
        let (lines, subtotal) = if cart.lines.is_empty() {
            (Vec::new(), None)
        } else {
            let catalog = products.iter().map(|p| (p.sku.clone(), p.clone())).collect();
            let wanted: Vec<(Sku, PositiveQuantity)> = cart.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
            let (priced, subtotal) = price_lines_with_subtotal(&wanted, &catalog)?;
            let lines = priced
                .into_iter()
                .zip(&cart.lines)
                .map(|(priced, line)| CartLineView { priced, held_at: line.held_at.clone(), hold_expires_at: line.hold_expires_at })
                .collect();
            (lines, Some(subtotal))
        };
        Ok(CartView {
            id: cart.id.clone(),
            origin: cart.origin.clone(),
            customer_id: cart.customer_id.clone(),
            contact: cart.contact.clone(),
            status: cart.status.clone(),
            lines,
            subtotal,
            hold_seconds: cart.hold_seconds,
            created_at: cart.created_at,
            updated_at: cart.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }
    fn cart() -> Cart {
        let draft: CartDraft = serde_json::from_str("{}").unwrap();
        Cart::open(CartId::parse("cart_1").unwrap(), SalesOrigin::App, draft, &CartToken::from_random_hex("00"), 900, CartLimits::default(), now())
    }
    fn line(sku: &str, q: i64) -> CartLine {
        CartLine::unheld(Sku::parse(sku).unwrap(), PositiveQuantity::new(q).unwrap())
    }

    #[test]
    fn publishable_keys_reach_a_guest_cart_by_token_and_a_shoppers_cart_by_session() {
        let token = CartToken::from_random_hex("00");
        let mut cart = cart();
        let app = |shopper: Option<&str>| Principal::Publishable {
            key_id: "p".into(),
            channel: Channel::App,
            shopper: shopper.map(|s| CustomerId::parse(s).unwrap()),
        };
        let web = Principal::Publishable { key_id: "p".into(), channel: Channel::Web, shopper: None };
        assert!(cart.admit(&app(None), Some(&token)).is_ok());
        assert_eq!(cart.admit(&app(None), None), Err(AccessError::CartTokenRequired));
        assert_eq!(cart.admit(&app(None), Some(&CartToken::presented("ct_01"))), Err(AccessError::CartTokenInvalid));
        assert!(matches!(cart.admit(&web, Some(&token)), Err(AccessError::OtherChannel { .. })));
        assert!(cart.admit(&Principal::Admin { key_id: "a".into() }, None).is_ok());
        cart.customer_id = Some(CustomerId::parse("ann").unwrap());
        assert!(cart.admit(&app(Some("ann")), None).is_ok());
        assert_eq!(cart.admit(&app(Some("bob")), Some(&token)), Err(AccessError::OtherShopper));
        assert_eq!(cart.admit(&app(None), Some(&token)), Err(AccessError::ShopperSessionRequired), "a claimed cart needs the session");
        let rotated = CartToken::from_random_hex("11");
        cart.customer_id = None;
        cart.apply(CartChange::RotateToken { token_hash: rotated.hash() }, &[], now()).unwrap();
        assert_eq!(cart.admit(&app(None), Some(&token)), Err(AccessError::CartTokenInvalid));
        assert!(cart.admit(&app(None), Some(&rotated)).is_ok());
    }

    #[test]
    fn lines_are_set_replaced_and_removed() {
        let mut c = cart();
        c.set_line(line("A", 1), now()).unwrap();
        c.set_line(line("A", 3), now()).unwrap();
        c.set_line(line("B", 1), now()).unwrap();
        assert_eq!(c.lines.len(), 2);
        assert_eq!(c.lines[0].quantity.get(), 3);
        c.remove_line(&Sku::parse("A").unwrap(), now()).unwrap();
        assert!(matches!(c.remove_line(&Sku::parse("A").unwrap(), now()), Err(CartError::NoSuchLine(_))));
    }

    #[test]
    fn an_ordered_cart_is_closed() {
        let mut c = cart();
        let order = OrderId::parse("ord_1").unwrap();
        c.close(order.clone(), now()).unwrap();
        c.close(order, now()).unwrap();
        assert!(c.close(OrderId::parse("ord_2").unwrap(), now()).is_err());
        assert!(matches!(c.set_line(line("A", 1), now()), Err(CartError::Closed(_))));
    }

    fn product(sku: &str, currency: &str) -> Product {
        Product {
            sku: Sku::parse(sku).unwrap(),
            style: crate::shared::ids::StyleCode::parse("STYLE").unwrap(),
            name: format!("Product {sku}"),
            color: "black".into(),
            size: "42".into(),
            price: Money::parse("10.00", currency).unwrap(),
            attributes: Default::default(),
            images: Vec::new(),
            updated_at: "2026-01-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn a_change_after_which_the_cart_would_not_price_changes_nothing() {
        let mut c = cart();
        let euros = [product("A", "EUR"), product("B", "EUR"), product("C", "EUR")];
        c.apply(CartChange::SetLines { lines: vec![line("A", 1), line("B", 1), line("C", 1)] }, &euros, now()).unwrap();
        // C is now sold in dollars: the cart no longer prices.
        let repriced = [product("A", "EUR"), product("B", "EUR"), product("C", "USD")];
        let before = c.clone();
        let later = now() + chrono::Duration::minutes(1);
        let refused = [
            CartChange::RemoveLine { sku: Sku::parse("A").unwrap() },
            CartChange::SetLines { lines: vec![line("A", 3)] },
            CartChange::Update { update: serde_json::from_str(r#"{"contact":{"email":"ann@example.com"}}"#).unwrap() },
        ];
        for change in refused {
            let outcome = c.apply(change.clone(), &repriced, later);
            assert!(matches!(outcome, Err(CartError::Unpriced(PricingError::MixedCurrencies { .. }))), "{change:?}");
            assert_eq!(c, before, "{change:?}");
        }
        c.apply(CartChange::RemoveLine { sku: Sku::parse("C").unwrap() }, &repriced, later).unwrap();
        assert_eq!(c.lines, vec![line("A", 1), line("B", 1)]);
        assert_eq!(c.updated_at, later);
    }

    #[test]
    fn a_refused_change_leaves_the_cart_as_it_was() {
        let mut c = cart();
        let catalog = [product("A", "EUR")];
        let unknown = c.apply(CartChange::SetLines { lines: vec![line("A", 1), line("X", 1)] }, &catalog, now());
        assert_eq!(unknown, Err(CartError::Unpriced(PricingError::UnknownProduct { sku: Sku::parse("X").unwrap() })));
        assert!(c.lines.is_empty(), "no line of a refused change is kept");
        let missing = c.apply(CartChange::RemoveLine { sku: Sku::parse("A").unwrap() }, &catalog, now());
        assert!(matches!(missing, Err(CartError::NoSuchLine(_))));
        let too_many: Vec<Product> = (0..=MAX_LINES).map(|i| product(&format!("P{i}"), "EUR")).collect();
        let lines = too_many.iter().map(|p| line(p.sku.as_str(), 1)).collect();
        assert_eq!(c.apply(CartChange::SetLines { lines }, &too_many, now()), Err(CartError::TooManyLines { max: MAX_LINES }));
        assert!(c.lines.is_empty());
    }

    #[test]
    fn a_cart_holds_no_more_than_its_limits() {
        let mut c = cart();
        c.limits = CartLimits { max_lines: 2, max_units_per_sku: 3 };
        let catalog = [product("A", "EUR"), product("B", "EUR"), product("C", "EUR")];
        assert_eq!(c.apply(CartChange::SetLines { lines: vec![line("A", 3), line("B", 1)] }, &catalog, now()), Ok(()));
        let hoard = c.apply(CartChange::SetLines { lines: vec![line("A", 4)] }, &catalog, now());
        assert_eq!(hoard, Err(CartError::TooManyUnits { sku: Sku::parse("A").unwrap(), max: 3 }));
        assert_eq!(c.apply(CartChange::SetLines { lines: vec![line("C", 1)] }, &catalog, now()), Err(CartError::TooManyLines { max: 2 }));
        assert_eq!(c.lines.iter().map(|l| l.quantity.get()).collect::<Vec<_>>(), vec![3, 1], "refused changes leave the cart as it was");
        let old: Cart = serde_json::from_value({
            let mut v = serde_json::to_value(&c).unwrap();
            v.as_object_mut().unwrap().remove("limits");
            v
        })
        .unwrap();
        assert_eq!(old.limits, CartLimits::default(), "a cart from before limits has the defaults");
    }

    #[test]
    fn refusals_cross_as_json() {
        let refusals = [
            CartError::Closed(CartId::parse("cart_1").unwrap()),
            CartError::NoSuchLine(Sku::parse("A").unwrap()),
            CartError::TooManyLines { max: 100 },
            CartError::TooManyUnits { sku: Sku::parse("A").unwrap(), max: 10 },
            CartError::Unpriced(PricingError::MixedCurrencies { currencies: vec![crate::shared::money::Currency::parse("EUR").unwrap()] }),
        ];
        for e in refusals {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<CartError>(&json).unwrap(), e, "{json}");
        }
    }

    #[test]
    fn serializes_with_channel_and_status_inline() {
        let v = serde_json::to_value(cart()).unwrap();
        assert_eq!(v["channel"], "app");
        assert_eq!(v["status"], "open");
        let back: Cart = serde_json::from_value(v).unwrap();
        assert_eq!(back, cart());
    }
}
