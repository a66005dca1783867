//! Deterministic crash simulation of the reminder delivery workflow, natively. Each seed
//! builds a few carts (customers and guests, with and without an address, consent and a
//! push subscription) under one of several sequences and lets them go quiet. Shoppers
//! change carts, empty them, order from them or in another channel, unsubscribe,
//! withdraw consent and lose subscriptions (the push service then answers 410) at random
//! times; the cart alarm hands due steps to the queue, sometimes twice; the queue
//! delivers messages late, twice at once, again after an ack, and again after a crash;
//! the sweeper runs now and then; the push service and email API accept, refuse for
//! good, ask to retry (429 with Retry-After, 5xx), or lose the answer. Every port call
//! may fail before or after taking effect, or crash its task there. A seeded scheduler
//! interleaves the tasks at every port call. Then a recovery phase (no faults, the clock
//! past every delay and the stale-`sending` period, the alarm, the sweeper and every
//! remaining message) runs, and the invariants are checked:
//! - at most one send of a cart's step reaches the push service (per device) or the
//!   email API, except a resend after an attempt whose answer was lost on the way back
//!   (at-most-once cannot tell a lost answer from a send that did not arrive: the email
//!   API dedupes such a resend by its Idempotency-Key, a push one by its Topic);
//! - nothing is sent for a cart ordered, or whose shopper ordered in any channel, since
//!   its last change and before the step was decided;
//! - nothing is sent without consent for the channel, or to an unsubscribed address, as
//!   known when the step was decided; the frequency cap holds across carts;
//! - every due step ends logged as sent, skipped with its reason or failed with its
//!   cause; no delivery is left queued, sending or retrying, nothing is left owed, and
//!   the queue is empty.
//!
//! `SIMULATION_SEEDS` (default 300) sets how many seeds run; `SIMULATION_SEED` replays
//! one (`SIMULATION_TRACE=1` prints every port call). A failure names its seed.

use super::ports::{Claimed, Delivery, DeliveryState, Ending, OwedByCart, PushDevice, ReminderPorts, ReminderQueue, ReminderStore, Sender, Sending};
use super::{handle, sweep_carts, Next, ReminderPolicy};
use crate::customers::{Consents, Contact, Customer, Email};
use crate::engagement::decision::SkipReason;
use crate::engagement::delivery::{CartEffect, ReminderMessage, RetryPolicy, SendOutcome};
use crate::engagement::sequence::ReminderSequence;
use crate::engagement::ReminderChannel;
use crate::sales::cart::{Cart, CartError, CartLine, CartStatus};
use crate::shared::ids::{CartId, CustomerId, OrderId, Sku};
use crate::shared::quantity::PositiveQuantity;
use crate::workflows::ports::{CartPort, PortError, Unavailable};
use crate::workflows::simulation::{Fault, YieldOnce};
use chrono::{DateTime, Duration, Utc};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// xorshift64*, seeded through SplitMix: small, seedable, enough to pick interleavings and faults.
struct Dice(u64);

impl Dice {
    fn seeded(seed: u64) -> Self {
        let z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        Dice((z ^ (z >> 31)) | 1)
    }
    fn roll(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick(&mut self, n: usize) -> usize {
        (self.roll() % n as u64) as usize
    }
    fn percent(&mut self, p: u64) -> bool {
        self.roll() % 100 < p
    }
}

/// One row of `reminder_deliveries`, with when it was decided.
#[derive(Debug, Clone)]
struct Row {
    channel: ReminderChannel,
    shopper: String,
    address: Option<Email>,
    state: DeliveryState,
    attempts: u32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct LogEntry {
    cart: CartId,
    step: u32,
    event: &'static str,
    detail: Option<String>,
}

/// An order in any channel: from a cart, or by a customer or an address elsewhere.
struct PlacedOrder {
    cart: Option<CartId>,
    customer: Option<CustomerId>,
    email: Option<Email>,
    at: DateTime<Utc>,
}

struct Consent {
    cart: Option<CartId>,
    customer: Option<CustomerId>,
    channel: ReminderChannel,
    granted: bool,
    at: DateTime<Utc>,
}

struct Subscription {
    device: PushDevice,
    cart: CartId,
    customer: Option<CustomerId>,
}

/// What reached the push service or the email API.
struct Arrival {
    cart: CartId,
    step: u32,
    /// The device's endpoint or the address.
    to: String,
    /// The sender never heard that it arrived (the answer was lost on the way back).
    answer_lost: bool,
}

struct QueuedMessage {
    id: u64,
    message: ReminderMessage,
    visible_at: DateTime<Utc>,
    in_flight: bool,
}

#[derive(Default)]
struct Tables {
    customers: BTreeMap<CustomerId, Customer>,
    consents: Vec<Consent>,
    subscriptions: Vec<Subscription>,
    unsubscribed: Vec<(Email, DateTime<Utc>)>,
    orders: Vec<PlacedOrder>,
    deliveries: BTreeMap<(CartId, u32), Row>,
    log: Vec<LogEntry>,
    owed: BTreeMap<i64, (CartId, CartEffect)>,
    next_seq: i64,
}

struct World {
    dice: RefCell<Dice>,
    fault_percent: Cell<u64>,
    now: Cell<DateTime<Utc>>,
    crashed: Cell<bool>,
    /// Tasks crashed so far.
    crashes: Cell<u32>,
    trace: bool,
    d1: RefCell<Tables>,
    carts: RefCell<BTreeMap<CartId, Cart>>,
    /// When each cart's lines last changed (what the alarm counts from while it waits).
    line_changes: RefCell<BTreeMap<CartId, Vec<DateTime<Utc>>>>,
    /// Steps the alarm handed on, per cart, step and the cart's last change then.
    handed: RefCell<BTreeSet<(CartId, u32, DateTime<Utc>)>>,
    queue: RefCell<Vec<QueuedMessage>>,
    next_message: Cell<u64>,
    /// Endpoints the push service answers 410 for.
    gone: RefCell<BTreeSet<String>>,
    arrivals: RefCell<Vec<Arrival>>,
}

const START: i64 = 1_800_000_000;
const SEQUENCES: [&str; 4] = ["push@20m,email@20m", "email@15m,push@20m", "email@10m,email@40m", "push@5m,push@30m,email@1h"];
/// How long a message whose consumer died stays invisible (the runtime's retry).
const CRASH_REDELIVERY_SECONDS: i64 = 30;

impl World {
    fn now(&self) -> DateTime<Utc> {
        self.now.get()
    }

    fn percent(&self, p: u64) -> bool {
        self.dice.borrow_mut().percent(p)
    }

    fn draw_fault(&self) -> Fault {
        let mut dice = self.dice.borrow_mut();
        if !dice.percent(self.fault_percent.get()) {
            return Fault::None;
        }
        [Fault::FailBefore, Fault::FailAfter, Fault::CrashBefore, Fault::CrashAfter][dice.pick(4)]
    }

    /// A port call: yields to the scheduler, then takes effect (or not) as the fault says.
    /// `lost` runs when it took effect and the answer is lost.
    async fn call_then<T: std::fmt::Debug>(&self, what: impl FnOnce() -> String, effect: impl FnOnce() -> T, lost: impl FnOnce(&T)) -> Result<T, Unavailable> {
        YieldOnce(false).await;
        let fault = self.draw_fault();
        if self.trace {
            eprintln!("{} {} {fault:?}", self.now().format("%H:%M:%S"), what());
        }
        match fault {
            Fault::CrashBefore => return self.crash().await,
            Fault::FailBefore => return Err(Unavailable("injected: failed before taking effect".into())),
            _ => {}
        }
        let outcome = effect();
        if self.trace {
            eprintln!("    -> {outcome:?}");
        }
        match fault {
            Fault::CrashAfter => self.crash().await,
            Fault::FailAfter => {
                lost(&outcome);
                Err(Unavailable("injected: answer lost after taking effect".into()))
            }
            _ => Ok(outcome),
        }
    }

    async fn call<T: std::fmt::Debug>(&self, what: impl FnOnce() -> String, effect: impl FnOnce() -> T) -> Result<T, Unavailable> {
        self.call_then(what, effect, |_| {}).await
    }

    async fn crash<T>(&self) -> T {
        self.crashed.set(true);
        self.crashes.set(self.crashes.get() + 1);
        std::future::pending().await
    }

    fn enqueue(&self, message: ReminderMessage, visible_at: DateTime<Utc>) {
        let id = self.next_message.get() + 1;
        self.next_message.set(id);
        self.queue.borrow_mut().push(QueuedMessage { id, message, visible_at, in_flight: false });
    }

    fn log(d1: &mut Tables, cart: &CartId, step: u32, event: &'static str, detail: Option<String>) {
        d1.log.push(LogEntry { cart: cart.clone(), step, event, detail });
    }

    /// A push service's or email API's answer to one send that got through.
    fn answer(&self, cart: &CartId, step: u32, to: &str, gone: bool) -> SendOutcome {
        if gone {
            return SendOutcome::Gone { status: 410 };
        }
        let roll = self.dice.borrow_mut().pick(100);
        let arrived = |answer_lost| self.arrivals.borrow_mut().push(Arrival { cart: cart.clone(), step, to: to.to_owned(), answer_lost });
        match roll {
            0..=69 => {
                arrived(false);
                SendOutcome::Delivered
            }
            70..=77 => SendOutcome::Temporary { cause: "answered 429".into(), retry_after: Some(Duration::seconds(7)) },
            78..=82 => SendOutcome::Temporary { cause: "answered 503".into(), retry_after: None },
            83..=86 => SendOutcome::Failed { cause: "answered 400".into() },
            87..=91 => SendOutcome::Temporary { cause: "no answer (it did not arrive)".into(), retry_after: None },
            _ => {
                arrived(true);
                SendOutcome::Temporary { cause: "no answer (it arrived)".into(), retry_after: None }
            }
        }
    }
}

impl ReminderStore for World {
    async fn delivery_exists(&self, cart: &CartId, step: u32) -> Result<bool, Unavailable> {
        self.call(|| format!("delivery_exists {cart} {step}"), || self.d1.borrow().deliveries.contains_key(&(cart.clone(), step))).await
    }
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Unavailable> {
        self.call(|| format!("customer {id}"), || self.d1.borrow().customers.get(id).cloned()).await
    }
    async fn reachable_devices(&self, cart: &CartId, customer: Option<&CustomerId>) -> Result<Vec<PushDevice>, Unavailable> {
        let read = || {
            let d1 = self.d1.borrow();
            let reaches = |s: &&Subscription| s.cart == *cart || (customer.is_some() && s.customer.as_ref() == customer);
            d1.subscriptions.iter().rev().filter(reaches).map(|s| s.device.clone()).collect()
        };
        self.call(|| format!("reachable_devices {cart}"), read).await
    }
    async fn latest_consent(&self, cart: &CartId, customer: Option<&CustomerId>, channel: ReminderChannel) -> Result<Option<bool>, Unavailable> {
        let now = self.now();
        self.call(|| format!("latest_consent {cart} {channel:?}"), || consent_at(&self.d1.borrow(), cart, customer, channel, now)).await
    }
    async fn is_unsubscribed(&self, _: ReminderChannel, address: &Email) -> Result<bool, Unavailable> {
        self.call(|| format!("is_unsubscribed {}", address.as_str()), || self.d1.borrow().unsubscribed.iter().any(|(a, _)| a == address)).await
    }
    async fn ordered_since(&self, cart: &CartId, customer: Option<&CustomerId>, email: Option<&Email>, since: DateTime<Utc>) -> Result<bool, Unavailable> {
        let read = || {
            let d1 = self.d1.borrow();
            d1.orders.iter().any(|o| {
                o.cart.as_ref() == Some(cart) || (o.at > since && ((customer.is_some() && o.customer.as_ref() == customer) || (email.is_some() && o.email.as_ref() == email)))
            })
        };
        self.call(|| format!("ordered_since {cart}"), read).await
    }
    async fn last_reminded(&self, shopper: &str, channel: ReminderChannel) -> Result<Option<DateTime<Utc>>, Unavailable> {
        let read = || {
            let d1 = self.d1.borrow();
            d1.deliveries.values().filter(|r| r.shopper == shopper && r.channel == channel && r.state != DeliveryState::Failed).map(|r| r.created_at).max()
        };
        self.call(|| format!("last_reminded {shopper}"), read).await
    }
    async fn skipped(&self, cart: &CartId, step: u32, _: ReminderChannel, reason: SkipReason, _: DateTime<Utc>) -> Result<(), Unavailable> {
        let write = || {
            let mut d1 = self.d1.borrow_mut();
            if !d1.deliveries.contains_key(&(cart.clone(), step)) {
                World::log(&mut d1, cart, step, "skipped", Some(reason.as_str().into()));
            }
        };
        self.call(|| format!("skipped {cart} {step} {reason:?}"), write).await
    }
    async fn claim(&self, delivery: &Delivery<'_>, cap_since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Claimed, Unavailable> {
        let write = || {
            let mut d1 = self.d1.borrow_mut();
            let key = (delivery.cart.clone(), delivery.step);
            if d1.deliveries.contains_key(&key) {
                return Claimed::Before;
            }
            let capped = d1
                .deliveries
                .values()
                .any(|r| r.shopper == delivery.shopper && r.channel == delivery.channel && r.state != DeliveryState::Failed && r.created_at > cap_since);
            if capped {
                return Claimed::Capped;
            }
            let row = Row {
                channel: delivery.channel,
                shopper: delivery.shopper.to_owned(),
                address: delivery.address.cloned(),
                state: DeliveryState::Queued,
                attempts: 0,
                created_at: now,
                updated_at: now,
            };
            d1.deliveries.insert(key, row);
            World::log(&mut d1, delivery.cart, delivery.step, "queued", None);
            d1.next_seq += 1;
            let seq = d1.next_seq;
            d1.owed.insert(seq, (delivery.cart.clone(), CartEffect::DeliverReminder { cart_id: delivery.cart.clone(), step: delivery.step }));
            Claimed::Mine
        };
        self.call(|| format!("claim {} {}", delivery.cart, delivery.step), write).await
    }
    async fn take(&self, cart: &CartId, step: u32, now: DateTime<Utc>) -> Result<Option<Sending>, Unavailable> {
        let write = || {
            let mut d1 = self.d1.borrow_mut();
            let row = d1.deliveries.get_mut(&(cart.clone(), step)).filter(|r| matches!(r.state, DeliveryState::Queued | DeliveryState::Retrying))?;
            row.state = DeliveryState::Sending;
            row.attempts += 1;
            row.updated_at = now;
            Some(Sending { channel: row.channel, address: row.address.clone(), attempts: row.attempts })
        };
        self.call(|| format!("take {cart} {step}"), write).await
    }
    async fn fail_stale(&self, cart: &CartId, step: u32, since: DateTime<Utc>, cause: &str, now: DateTime<Utc>) -> Result<bool, Unavailable> {
        let write = || {
            let mut d1 = self.d1.borrow_mut();
            let Some(row) = d1.deliveries.get_mut(&(cart.clone(), step)).filter(|r| r.state == DeliveryState::Sending && r.updated_at < since) else {
                return false;
            };
            row.state = DeliveryState::Failed;
            row.updated_at = now;
            World::log(&mut d1, cart, step, "failed", Some(cause.to_owned()));
            true
        };
        self.call(|| format!("fail_stale {cart} {step}"), write).await
    }
    async fn state(&self, cart: &CartId, step: u32) -> Result<Option<DeliveryState>, Unavailable> {
        self.call(|| format!("state {cart} {step}"), || self.d1.borrow().deliveries.get(&(cart.clone(), step)).map(|r| r.state)).await
    }
    async fn finish(&self, cart: &CartId, step: u32, _: ReminderChannel, ending: &Ending, now: DateTime<Utc>) -> Result<(), Unavailable> {
        let write = || {
            let mut d1 = self.d1.borrow_mut();
            if let Some(row) = d1.deliveries.get_mut(&(cart.clone(), step)) {
                row.state = ending.state();
                row.updated_at = now;
            }
            World::log(&mut d1, cart, step, ending.state().as_str(), ending.cause().map(str::to_owned));
        };
        self.call(|| format!("finish {cart} {step} {ending:?}"), write).await
    }
    async fn forget_device(&self, endpoint: &str) -> Result<(), Unavailable> {
        self.call(|| format!("forget_device {endpoint}"), || self.d1.borrow_mut().subscriptions.retain(|s| s.device.endpoint != endpoint)).await
    }
    async fn owed_by_cart(&self, cart: &CartId) -> Result<Vec<OwedByCart>, Unavailable> {
        let read = || self.d1.borrow().owed.iter().filter(|(_, (c, _))| c == cart).map(|(seq, (_, effect))| OwedByCart { seq: *seq, effect: effect.clone() }).collect();
        self.call(|| format!("owed_by_cart {cart}"), read).await
    }
    async fn settled(&self, seq: i64) -> Result<(), Unavailable> {
        self.call(|| format!("settled #{seq}"), || drop(self.d1.borrow_mut().owed.remove(&seq))).await
    }
    async fn carts_owing(&self, limit: u32) -> Result<Vec<CartId>, Unavailable> {
        let read = || {
            let mut carts: Vec<CartId> = Vec::new();
            for (cart, _) in self.d1.borrow().owed.values() {
                if !carts.contains(cart) && carts.len() < limit as usize {
                    carts.push(cart.clone());
                }
            }
            carts
        };
        self.call(|| "carts_owing".into(), read).await
    }
}

/// The newest consent recorded on the cart or its customer at `at`.
fn consent_at(d1: &Tables, cart: &CartId, customer: Option<&CustomerId>, channel: ReminderChannel, at: DateTime<Utc>) -> Option<bool> {
    let on = |c: &&Consent| c.channel == channel && c.at <= at && (c.cart.as_ref() == Some(cart) || (customer.is_some() && c.customer.as_ref() == customer));
    d1.consents.iter().filter(on).max_by_key(|c| c.at).map(|c| c.granted)
}

impl CartPort for World {
    async fn cart(&self, id: &CartId) -> Result<Option<Cart>, Unavailable> {
        self.call(|| format!("cart {id}"), || self.carts.borrow().get(id).cloned()).await
    }
    async fn close(&self, id: &CartId, order: &OrderId) -> Result<(), PortError<CartError>> {
        let now = self.now();
        let close = || self.carts.borrow_mut().get_mut(id).map(|c| c.close(order.clone(), now));
        match self.call(|| format!("close {id}"), close).await? {
            Some(Err(refused)) => Err(PortError::Refused(refused)),
            Some(Ok(())) | None => Ok(()),
        }
    }
}

impl ReminderQueue for World {
    async fn hand_on(&self, message: &ReminderMessage) -> Result<(), Unavailable> {
        let now = self.now();
        self.call(|| format!("hand_on {message:?}"), || self.enqueue(message.clone(), now)).await
    }
}

impl Sender for World {
    async fn push(&self, cart: &Cart, step: u32, devices: &[PushDevice]) -> Result<Vec<SendOutcome>, Unavailable> {
        let before = self.arrivals.borrow().len();
        let send = || devices.iter().map(|d| self.answer(&cart.id, step, &d.endpoint, self.gone.borrow().contains(&d.endpoint))).collect::<Vec<_>>();
        self.call_then(|| format!("push {} {step} to {}", cart.id, devices.len()), send, |_| self.lose_answers(before)).await
    }
    async fn email(&self, cart: &Cart, step: u32, to: &Email) -> Result<SendOutcome, Unavailable> {
        let before = self.arrivals.borrow().len();
        self.call_then(|| format!("email {} {step}", cart.id), || self.answer(&cart.id, step, to.as_str(), false), |_| self.lose_answers(before)).await
    }
}

impl World {
    /// The sends since `before` arrived, and their answers never came back.
    fn lose_answers(&self, before: usize) {
        for arrival in self.arrivals.borrow_mut().iter_mut().skip(before) {
            arrival.answer_lost = true;
        }
    }
}

impl ReminderPorts for World {
    type Store = World;
    type Carts = World;
    type Queue = World;
    type Sender = World;
    fn store(&self) -> &World {
        self
    }
    fn carts(&self) -> &World {
        self
    }
    fn queue(&self) -> &World {
        self
    }
    fn sender(&self) -> &World {
        self
    }
    fn now(&self) -> DateTime<Utc> {
        self.now.get()
    }
}

// ---------------------------------------------------------------- the seed's shoppers

fn id<T>(parse: fn(&str) -> Result<T, crate::shared::ids::InvalidId>, text: String) -> T {
    parse(&text).expect("valid id")
}

fn email(n: usize) -> Email {
    Email::parse(&format!("shopper{n}@example.com")).expect("valid address")
}

fn world(dice: &mut Dice, fault_percent: u64) -> World {
    let start = DateTime::from_timestamp(START, 0).expect("valid time");
    let mut d1 = Tables::default();
    let customers: Vec<CustomerId> = (0..dice.pick(3)).map(|n| id(CustomerId::parse, format!("cus_{n}"))).collect();
    for (n, customer) in customers.iter().enumerate() {
        let consents = Consents { email_reminders: dice.percent(70), push_reminders: dice.percent(70) };
        let profile = Customer { id: customer.as_str().into(), name: format!("Shopper {n}"), email: email(n), phone: None, consents, created_at: String::new(), updated_at: String::new() };
        d1.customers.insert(customer.clone(), profile);
    }
    let mut carts = BTreeMap::new();
    let mut line_changes = BTreeMap::new();
    let mut gone = BTreeSet::new();
    for n in 0..2 + dice.pick(4) {
        let cart_id = id(CartId::parse, format!("cart_{n}"));
        let draft = serde_json::from_value(serde_json::json!({ "channel": "web" })).expect("valid cart draft");
        let origin = serde_json::from_value(serde_json::json!({ "channel": "web" })).expect("valid origin");
        let token = crate::access::cart_token::CartToken::from_random_hex("00");
        let mut cart = Cart::open(cart_id.clone(), origin, draft, &token, 0, Default::default(), start);
        if !customers.is_empty() && dice.percent(50) {
            cart.customer_id = Some(customers[dice.pick(customers.len())].clone());
        } else if dice.percent(60) {
            // A guest's address; shared with a customer's now and then (bought elsewhere as a guest).
            cart.contact = Contact { email: Some(email(10 + dice.pick(4))), phone: None };
        }
        let sku = Sku::parse(&format!("SKU-{}", dice.pick(3))).expect("valid sku");
        cart.set_line(CartLine::unheld(sku, PositiveQuantity::new(1).expect("one")), start).expect("a line");
        for channel in [ReminderChannel::Email, ReminderChannel::Push] {
            if dice.percent(60) {
                d1.consents.push(Consent { cart: Some(cart_id.clone()), customer: None, channel, granted: dice.percent(80), at: start });
            }
        }
        if dice.percent(65) {
            let endpoint = format!("https://push.example/{n}");
            if dice.percent(15) {
                gone.insert(endpoint.clone());
            }
            d1.subscriptions.push(Subscription { device: PushDevice { endpoint, p256dh: "key".into(), auth: "auth".into() }, cart: cart_id.clone(), customer: cart.customer_id.clone() });
        }
        line_changes.insert(cart_id.clone(), vec![start]);
        carts.insert(cart_id, cart);
    }
    World {
        dice: RefCell::new(Dice::seeded(dice.roll())),
        fault_percent: Cell::new(fault_percent),
        now: Cell::new(start),
        crashed: Cell::new(false),
        crashes: Cell::new(0),
        trace: std::env::var("SIMULATION_TRACE").is_ok(),
        d1: RefCell::new(d1),
        carts: RefCell::new(carts),
        line_changes: RefCell::new(line_changes),
        handed: RefCell::new(BTreeSet::new()),
        queue: RefCell::new(Vec::new()),
        next_message: Cell::new(0),
        gone: RefCell::new(gone),
        arrivals: RefCell::new(Vec::new()),
    }
}

/// One shopper does something to a random cart, now.
fn shopper_acts(world: &World, orders: &mut usize) {
    let now = world.now();
    let ids: Vec<CartId> = world.carts.borrow().keys().cloned().collect();
    let cart_id = ids[world.dice.borrow_mut().pick(ids.len())].clone();
    let mut carts = world.carts.borrow_mut();
    let cart = carts.get_mut(&cart_id).expect("a cart");
    let customer = cart.customer_id.clone();
    let address = customer.as_ref().and_then(|c| world.d1.borrow().customers.get(c).map(|p| p.email.clone())).or_else(|| cart.contact.email.clone());
    let open = matches!(cart.status, CartStatus::Open);
    let action = world.dice.borrow_mut().pick(8);
    let mut d1 = world.d1.borrow_mut();
    match action {
        0 | 1 if open => {
            let sku = Sku::parse(&format!("SKU-{}", world.dice.borrow_mut().pick(3))).expect("valid sku");
            cart.set_line(CartLine::unheld(sku, PositiveQuantity::new(2).expect("two")), now).expect("a line");
            world.line_changes.borrow_mut().entry(cart_id).or_default().push(now);
        }
        2 if open => {
            cart.lines.clear();
            cart.updated_at = now;
        }
        3 if open => {
            *orders += 1;
            cart.close(id(OrderId::parse, format!("ord_{orders}")), now).expect("an open cart closes");
            d1.orders.push(PlacedOrder { cart: Some(cart_id), customer, email: address, at: now });
        }
        4 => d1.orders.push(PlacedOrder { cart: None, customer, email: address, at: now }),
        5 => {
            if let Some(address) = address {
                d1.unsubscribed.push((address, now));
            }
        }
        6 => {
            let channel = if world.percent(50) { ReminderChannel::Email } else { ReminderChannel::Push };
            let (cart, customer) = if customer.is_some() && world.percent(50) { (None, customer) } else { (Some(cart_id), None) };
            d1.consents.push(Consent { cart, customer, channel, granted: false, at: now });
        }
        _ => {
            // The browser drops the subscription: the push service answers 410 from now on.
            if let Some(s) = d1.subscriptions.iter().find(|s| s.cart == cart_id) {
                world.gone.borrow_mut().insert(s.device.endpoint.clone());
            }
        }
    }
}

/// The carts' alarms: every step due since a waiting cart's last change, not yet handed
/// on for that change, goes to the queue (sometimes twice: an alarm that fires again).
fn alarms(world: &World, sequence: &ReminderSequence) {
    let now = world.now();
    let waiting: Vec<(CartId, DateTime<Utc>)> = world
        .carts
        .borrow()
        .values()
        .filter(|c| matches!(c.status, CartStatus::Open) && !c.lines.is_empty())
        .map(|c| (c.id.clone(), c.updated_at))
        .collect();
    for (cart, quiet) in waiting {
        for step in sequence.due(quiet, now) {
            if world.handed.borrow_mut().insert((cart.clone(), step.number, quiet)) {
                let message = ReminderMessage::StepDue { cart_id: cart.clone(), step: step.number };
                if world.percent(15) {
                    world.enqueue(message.clone(), now);
                }
                world.enqueue(message, now);
            }
        }
    }
}

// ---------------------------------------------------------------- tasks and the scheduler

struct Task<'a> {
    future: Pin<Box<dyn Future<Output = Result<Next, Unavailable>> + 'a>>,
    /// The queue message it consumes (None: the sweeper).
    message: Option<u64>,
}

fn consumer<'a>(world: &'a World, policy: &'a ReminderPolicy<'a>, id: u64, message: ReminderMessage) -> Task<'a> {
    Task { future: Box::pin(async move { handle(world, policy, &message).await }), message: Some(id) }
}

fn sweeper(world: &World) -> Task<'_> {
    Task { future: Box::pin(async move { sweep_carts(world, world, 100).await.map(|_| Next::Ack) }), message: None }
}

/// The queue's answer to a consumer that finished (or died).
fn settle_message(world: &World, id: u64, result: Option<Result<Next, Unavailable>>) {
    let now = world.now();
    let mut queue = world.queue.borrow_mut();
    let Some(at) = queue.iter().position(|m| m.id == id) else { return };
    let visible_at = match result {
        Some(Ok(Next::Ack | Next::Drop(_))) => {
            let message = queue.swap_remove(at).message;
            drop(queue);
            // At least once: now and then an acked message comes again.
            if world.percent(4) {
                world.enqueue(message, now + Duration::seconds(20));
            }
            return;
        }
        Some(Ok(Next::RetryIn(wait))) => now + wait,
        Some(Err(_)) => now + Duration::seconds(5),
        None => now + Duration::seconds(CRASH_REDELIVERY_SECONDS),
    };
    queue[at].visible_at = visible_at;
    queue[at].in_flight = false;
}

/// Hands each visible message to a consumer (in `percent` of cases; now and then a
/// second consumer gets a copy at the same time).
fn deliver_messages<'a>(world: &'a World, policy: &'a ReminderPolicy<'a>, tasks: &mut Vec<Task<'a>>, percent: u64) {
    let now = world.now();
    let visible: Vec<(u64, ReminderMessage)> = world.queue.borrow().iter().filter(|m| !m.in_flight && m.visible_at <= now).map(|m| (m.id, m.message.clone())).collect();
    for (id, message) in visible {
        if !world.percent(percent) {
            continue;
        }
        if world.percent(10) {
            world.enqueue(message.clone(), now);
            let copy = world.next_message.get();
            world.queue.borrow_mut().iter_mut().filter(|m| m.id == copy).for_each(|m| m.in_flight = true);
            tasks.push(consumer(world, policy, copy, message.clone()));
        }
        world.queue.borrow_mut().iter_mut().filter(|m| m.id == id).for_each(|m| m.in_flight = true);
        tasks.push(consumer(world, policy, id, message));
    }
}

/// Polls one random task once; a finished or crashed task gives its message back to the queue.
fn poll_one(world: &World, tasks: &mut Vec<Task<'_>>) {
    if tasks.is_empty() {
        return;
    }
    let i = world.dice.borrow_mut().pick(tasks.len());
    world.crashed.set(false);
    let mut cx = Context::from_waker(Waker::noop());
    let result = match tasks[i].future.as_mut().poll(&mut cx) {
        Poll::Ready(result) => Some(result),
        Poll::Pending if world.crashed.get() => None,
        Poll::Pending => return,
    };
    let task = tasks.swap_remove(i);
    if let Some(id) = task.message {
        settle_message(world, id, result);
    }
}

// ---------------------------------------------------------------- a run and its invariants

fn run(seed: u64) -> Result<Seen, String> {
    let mut dice = Dice::seeded(seed);
    let fault_percent = [0, 3, 8, 15][dice.pick(4)];
    let sequence = ReminderSequence::parse(SEQUENCES[dice.pick(SEQUENCES.len())]).expect("valid sequence");
    let policy = ReminderPolicy { sequence: &sequence, cap: Duration::hours(24), retry: RetryPolicy { max_attempts: 1 + dice.pick(5) as u32, base: Duration::seconds(30) } };
    let world = world(&mut dice, fault_percent);
    let mut tasks: Vec<Task> = Vec::new();
    let mut orders = 0;

    // Shoppers, alarms, the queue and the sweeper, for two hours, faults and all.
    let end = world.now() + Duration::hours(2);
    while world.now() < end {
        world.now.set(world.now() + Duration::seconds(1 + world.dice.borrow_mut().pick(20) as i64));
        if world.percent(3) {
            shopper_acts(&world, &mut orders);
        }
        alarms(&world, &sequence);
        deliver_messages(&world, &policy, &mut tasks, 50);
        if world.percent(3) {
            tasks.push(sweeper(&world));
        }
        for _ in 0..3 {
            poll_one(&world, &mut tasks);
        }
    }

    // Recovery: no faults, the clock past every delay and the stale period; the alarm,
    // the sweeper and every message until the queue is empty.
    world.fault_percent.set(0);
    world.now.set(world.now() + Duration::hours(2));
    alarms(&world, &sequence);
    for round in 0.. {
        if round > 200 {
            return Err(format!("recovery did not finish: {} messages left", world.queue.borrow().len()));
        }
        tasks.push(sweeper(&world));
        deliver_messages(&world, &policy, &mut tasks, 100);
        while !tasks.is_empty() {
            world.now.set(world.now() + Duration::milliseconds(100));
            poll_one(&world, &mut tasks);
        }
        let next = world.queue.borrow().iter().map(|m| m.visible_at).min();
        match next {
            None if world.d1.borrow().owed.is_empty() => break,
            None => {}
            Some(at) => world.now.set(world.now().max(at)),
        }
    }
    check(&world, &sequence, &policy)?;
    Ok(seen(&world))
}

fn check(world: &World, sequence: &ReminderSequence, policy: &ReminderPolicy<'_>) -> Result<(), String> {
    let d1 = world.d1.borrow();
    let carts = world.carts.borrow();
    if let Some((seq, owed)) = d1.owed.iter().next() {
        return Err(format!("still owed after recovery: #{seq} {owed:?}"));
    }
    if let Some(((cart, step), row)) = d1.deliveries.iter().find(|(_, r)| !matches!(r.state, DeliveryState::Sent | DeliveryState::Failed)) {
        return Err(format!("{cart} step {step} left {}", row.state.as_str()));
    }

    // At most one send per cart, step and device or address (but for resends after a lost answer).
    let arrivals = world.arrivals.borrow();
    for (i, arrival) in arrivals.iter().enumerate() {
        let same = |a: &&Arrival| a.cart == arrival.cart && a.step == arrival.step && a.to == arrival.to;
        let earlier: Vec<&Arrival> = arrivals[..i].iter().filter(same).collect();
        if earlier.len() > earlier.iter().filter(|a| a.answer_lost).count() {
            return Err(format!("{} step {} reached {} {} times", arrival.cart, arrival.step, arrival.to, earlier.len() + 1));
        }
        let row = d1.deliveries.get(&(arrival.cart.clone(), arrival.step)).ok_or_else(|| format!("{} step {} was sent without a delivery key", arrival.cart, arrival.step))?;
        sent_as_decided(world, &d1, &carts, arrival, row)?;
    }

    // The frequency cap, across carts.
    let sent: Vec<&Row> = d1.deliveries.values().filter(|r| r.state == DeliveryState::Sent).collect();
    for (i, a) in sent.iter().enumerate() {
        if let Some(b) = sent[i + 1..].iter().find(|b| b.shopper == a.shopper && b.channel == a.channel && (b.created_at - a.created_at).abs() < policy.cap) {
            return Err(format!("{} reminded twice on {:?} within the cap ({} and {})", a.shopper, a.channel, a.created_at, b.created_at));
        }
    }

    // Every due step ends logged: sent, skipped with its reason, or failed with its cause,
    // in agreement with its delivery.
    for (cart_id, changes) in world.line_changes.borrow().iter() {
        let last_change = changes.last().copied();
        for step in sequence.steps() {
            let handed_at_last_change = world.handed.borrow().iter().any(|(c, s, quiet)| c == cart_id && *s == step.number && Some(*quiet) == last_change);
            let entries: Vec<&LogEntry> = d1.log.iter().filter(|e| e.cart == *cart_id && e.step == step.number).collect();
            for e in &entries {
                if matches!(e.event, "skipped" | "failed" | "retrying") && e.detail.as_deref().is_none_or(str::is_empty) {
                    return Err(format!("{cart_id} step {}: {} without a reason", step.number, e.event));
                }
            }
            let last = entries.iter().rev().find(|e| matches!(e.event, "sent" | "skipped" | "failed"));
            match (d1.deliveries.get(&(cart_id.clone(), step.number)), last) {
                (Some(row), Some(e)) if e.event == row.state.as_str() => {}
                (Some(row), last) => return Err(format!("{cart_id} step {} ended {} but its log ends {:?}", step.number, row.state.as_str(), last.map(|e| e.event))),
                (None, Some(e)) if e.event == "skipped" => {}
                (None, Some(e)) => return Err(format!("{cart_id} step {} logged {} without a delivery", step.number, e.event)),
                (None, None) if handed_at_last_change => return Err(format!("{cart_id} step {} was due and never decided", step.number)),
                (None, None) => {}
            }
        }
    }
    Ok(())
}

/// A send that reached a shopper was allowed when its step was decided: no order from
/// the cart, nor by the shopper since the cart's last change; consent; not unsubscribed.
fn sent_as_decided(world: &World, d1: &Tables, carts: &BTreeMap<CartId, Cart>, arrival: &Arrival, row: &Row) -> Result<(), String> {
    let decided = row.created_at;
    let cart = &carts[&arrival.cart];
    let quiet = world.line_changes.borrow()[&arrival.cart].iter().copied().filter(|at| *at <= decided).max().unwrap_or(decided);
    let profile = cart.customer_id.as_ref().and_then(|c| d1.customers.get(c));
    let address = profile.map(|p| p.email.clone()).or_else(|| cart.contact.email.clone());
    let bought = d1.orders.iter().any(|o| {
        o.at < decided
            && (o.cart.as_ref() == Some(&arrival.cart)
                || (o.at > quiet && ((cart.customer_id.is_some() && o.customer == cart.customer_id) || (address.is_some() && o.email == address))))
    });
    if bought {
        return Err(format!("{} step {} was sent though the shopper ordered before it was decided", arrival.cart, arrival.step));
    }
    let consent = consent_at(d1, &arrival.cart, cart.customer_id.as_ref(), row.channel, decided).unwrap_or_else(|| {
        profile.is_some_and(|p| match row.channel {
            ReminderChannel::Email => p.consents.email_reminders,
            ReminderChannel::Push => p.consents.push_reminders,
        })
    });
    if !consent {
        return Err(format!("{} step {} was sent without {:?} consent", arrival.cart, arrival.step, row.channel));
    }
    if row.channel == ReminderChannel::Email && d1.unsubscribed.iter().any(|(a, at)| address.as_ref() == Some(a) && *at < decided) {
        return Err(format!("{} step {} was emailed to an unsubscribed address", arrival.cart, arrival.step));
    }
    Ok(())
}

/// What a seed went through, to show the seeds together reach every case the invariants are about.
type Seen = BTreeSet<String>;

fn seen(world: &World) -> Seen {
    let d1 = world.d1.borrow();
    let mut seen: Seen = d1
        .log
        .iter()
        .map(|e| match (e.event, e.detail.as_deref()) {
            ("skipped", Some(reason)) => format!("skipped {reason}"),
            ("failed", Some(super::STALE_CAUSE)) => "failed mid-send".into(),
            ("failed", Some(cause)) if cause.contains("gone") => "failed gone".into(),
            (event, _) => event.into(),
        })
        .collect();
    if world.crashes.get() > 0 {
        seen.insert("crash".into());
    }
    if world.arrivals.borrow().iter().any(|a| a.answer_lost) {
        seen.insert("answer lost".into());
    }
    seen
}

#[test]
fn reminders_go_at_most_once_and_only_when_they_should_under_crashes_from_every_seed() {
    if let Ok(seed) = std::env::var("SIMULATION_SEED") {
        let seed: u64 = seed.parse().expect("SIMULATION_SEED is a number");
        if let Err(broken) = run(seed) {
            panic!("seed {seed}: {broken}");
        }
        return;
    }
    let seeds: u64 = std::env::var("SIMULATION_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    let mut seen = Seen::new();
    let mut failures: Vec<String> = Vec::new();
    for seed in 0..seeds {
        match run(seed) {
            Ok(cases) => seen.extend(cases),
            Err(e) => failures.push(format!("seed {seed}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {seeds} seeds broke an invariant (replay one with SIMULATION_SEED=<seed>):\n{}",
        failures.len(),
        failures.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    if seeds >= 200 {
        let cases = [
            "sent", "retrying", "failed mid-send", "failed gone", "crash", "answer lost", "skipped cart_ordered", "skipped cart_empty",
            "skipped ordered_elsewhere", "skipped no_consent", "skipped unsubscribed", "skipped no_subscription", "skipped no_address", "skipped frequency_cap",
        ];
        let missing: Vec<&str> = cases.into_iter().filter(|c| !seen.contains(*c)).collect();
        assert!(missing.is_empty(), "no seed reached {missing:?} (seen: {seen:?})");
    }
}
