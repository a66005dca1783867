//! The cart-reminder delivery workflow, over ports (`ports`) so it runs natively in a
//! crash simulation (`simulation`, tests only) and, in the worker, as the reminder
//! queue's consumer. `StepDue` (from a cart's alarm): gather the facts, decide
//! (`crate::engagement::decision`), log a skip with its reason, or claim the step's
//! delivery key together with what the cart then owes (handing the delivery to the
//! queue) in one write, and settle that (the sweeper finishes it after a crash).
//! `Deliver`: take the delivery for sending (one taker, from `queued` or `retrying`
//! only, so a second alarm or a redelivered message never sends twice), render it from
//! the cart as it is now, send it, and end it as `sent`, `failed` with its cause, or
//! `retrying` (the message comes back after the backoff). A message that finds its
//! delivery being sent looks again later; one left `sending` longer than
//! `STALE_SENDING` by an attempt that died ends as `failed` (at most once, never
//! silently lost).

pub mod ports;

#[cfg(test)]
mod simulation;

use crate::customers::{Customer, Email};
use crate::engagement::decision::{decide, CartState, Decision, Reach, SkipReason, StepFacts};
use crate::engagement::delivery::{combine, ReminderMessage, RetryPolicy, SendOutcome};
use crate::engagement::sequence::ReminderSequence;
use crate::engagement::ReminderChannel;
use crate::sales::cart::{Cart, CartStatus};
use crate::shared::ids::CartId;
use crate::workflows::ports::{CartPort, Unavailable};
use chrono::Duration;
use ports::{Claimed, Delivery, Ending, PushDevice, ReminderPorts, ReminderQueue, ReminderStore, Sender, DeliveryState};
use sha2::{Digest, Sha256};

/// A delivery left `sending` this long was interrupted mid-send.
pub const STALE_SENDING: Duration = Duration::minutes(5);
/// Why a delivery left `sending` ends as failed.
pub const STALE_CAUSE: &str = "the previous attempt stopped mid-send; not sent again (at most once)";

/// What the deployment configured for reminders that the workflow obeys.
#[derive(Debug, Clone, Copy)]
pub struct ReminderPolicy<'a> {
    pub sequence: &'a ReminderSequence,
    /// At most one reminder per shopper and channel within this.
    pub cap: Duration,
    pub retry: RetryPolicy,
}

/// What to do with a queue message after handling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Ack,
    /// Bring it back after this long.
    RetryIn(Duration),
    /// Acknowledge it, and say why nothing could be done with it.
    Drop(String),
}

/// Handles one message of the reminder queue. `Err`: a store or object did not answer;
/// the message comes back (its delivery key makes that safe).
pub async fn handle<P: ReminderPorts>(ports: &P, policy: &ReminderPolicy<'_>, message: &ReminderMessage) -> Result<Next, Unavailable> {
    match message {
        ReminderMessage::StepDue { cart_id, step } => step_due(ports, policy, cart_id, *step).await,
        ReminderMessage::Deliver { cart_id, step } => deliver(ports, policy, cart_id, *step).await,
    }
}

fn cart_state(cart: Option<&Cart>) -> CartState {
    match cart {
        None => CartState::Gone,
        Some(c) if matches!(c.status, CartStatus::Ordered { .. }) => CartState::Ordered,
        Some(c) if c.lines.is_empty() => CartState::Empty,
        Some(_) => CartState::Waiting,
    }
}

/// Who the frequency cap counts for: the customer, else the address or the browser.
pub fn shopper(channel: ReminderChannel, customer: Option<&Customer>, cart: &Cart, devices: &[PushDevice]) -> String {
    match (channel, customer) {
        (_, Some(c)) => format!("customer:{}", c.id),
        (ReminderChannel::Email, None) => cart.contact.email.as_ref().map_or_else(|| format!("cart:{}", cart.id), |e| format!("email:{}", e.as_str())),
        (ReminderChannel::Push, None) => devices
            .first()
            .map_or_else(|| format!("cart:{}", cart.id), |d| format!("browser:{}", hex::encode(&Sha256::digest(d.endpoint.as_bytes())[..12]))),
    }
}

/// A due step: decided, then skipped (logged with its reason) or claimed and handed on.
async fn step_due<P: ReminderPorts>(ports: &P, policy: &ReminderPolicy<'_>, cart_id: &CartId, number: u32) -> Result<Next, Unavailable> {
    let store = ports.store();
    let Some(step) = policy.sequence.step(number) else {
        return Ok(Next::Drop(format!("cart {cart_id} step {number} is not in REMINDER_SEQUENCE any more")));
    };
    if store.delivery_exists(cart_id, number).await? {
        return settle_cart(ports.store(), ports.queue(), cart_id).await.map(|()| Next::Ack);
    }
    let now = ports.now();
    let Some(cart) = ports.carts().cart(cart_id).await? else {
        return store.skipped(cart_id, number, step.channel, SkipReason::CartGone, now).await.map(|()| Next::Ack);
    };
    let customer = match &cart.customer_id {
        Some(id) => store.customer(id).await?,
        None => None,
    };
    let address = customer.as_ref().map(|c| c.email.clone()).or_else(|| cart.contact.email.clone());
    let devices = match step.channel {
        ReminderChannel::Push => store.reachable_devices(cart_id, cart.customer_id.as_ref()).await?,
        ReminderChannel::Email => Vec::new(),
    };
    let shopper = shopper(step.channel, customer.as_ref(), &cart, &devices);
    let profile_consent = customer.as_ref().is_some_and(|c| match step.channel {
        ReminderChannel::Email => c.consents.email_reminders,
        ReminderChannel::Push => c.consents.push_reminders,
    });
    let consent = store.latest_consent(cart_id, cart.customer_id.as_ref(), step.channel).await?.unwrap_or(profile_consent);
    let unsubscribed = match (&address, step.channel) {
        (Some(address), ReminderChannel::Email) => store.is_unsubscribed(step.channel, address).await?,
        _ => false,
    };
    let facts = StepFacts {
        cart: cart_state(Some(&cart)),
        quiet_since: cart.updated_at,
        delay: step.delay,
        now,
        ordered_since: store.ordered_since(cart_id, cart.customer_id.as_ref(), address.as_ref(), cart.updated_at).await?,
        reach: match step.channel {
            ReminderChannel::Email => Reach::Email(address.clone()),
            ReminderChannel::Push => Reach::Push { live_subscriptions: devices.len() as u32 },
        },
        consent,
        unsubscribed,
        last_reminded: store.last_reminded(&shopper, step.channel).await?,
        cap: policy.cap,
    };
    let skip = |reason| async move { store.skipped(cart_id, number, step.channel, reason, now).await.map(|()| Next::Ack) };
    match decide(&facts) {
        Decision::NotYetDue => Ok(Next::Ack),
        Decision::Skip(reason) => skip(reason).await,
        Decision::Send => {
            let delivery = Delivery { cart: cart_id, step: number, channel: step.channel, shopper: &shopper, address: address.as_ref().filter(|_| step.channel == ReminderChannel::Email) };
            match store.claim(&delivery, now - policy.cap, now).await? {
                Claimed::Mine | Claimed::Before => settle_cart(ports.store(), ports.queue(), cart_id).await.map(|()| Next::Ack),
                Claimed::Capped => skip(SkipReason::FrequencyCap).await,
            }
        }
    }
}

/// Applies what a cart owes (hands its deliveries to the queue) and crosses it off.
/// Handing one on twice is harmless: a delivery is sent only from `queued` or `retrying`.
pub async fn settle_cart(store: &impl ReminderStore, queue: &impl ReminderQueue, cart_id: &CartId) -> Result<(), Unavailable> {
    for owed in store.owed_by_cart(cart_id).await? {
        queue.hand_on(&owed.effect.message()).await?;
        store.settled(owed.seq).await?;
    }
    Ok(())
}

/// The sweeper's part: settles up to `limit` carts that still owe, oldest debt first.
/// Answers the carts whose debts stay owed for the next pass, and why.
pub async fn sweep_carts(store: &impl ReminderStore, queue: &impl ReminderQueue, limit: u32) -> Result<Vec<(CartId, Unavailable)>, Unavailable> {
    let mut failed = Vec::new();
    for cart in store.carts_owing(limit).await? {
        if let Err(e) = settle_cart(store, queue, &cart).await {
            failed.push((cart, e));
        }
    }
    Ok(failed)
}

/// A delivery: taken (one taker), attempted, and ended.
async fn deliver<P: ReminderPorts>(ports: &P, policy: &ReminderPolicy<'_>, cart_id: &CartId, step: u32) -> Result<Next, Unavailable> {
    let store = ports.store();
    let now = ports.now();
    let Some(sending) = store.take(cart_id, step, now).await? else {
        // Sent or failed already (a duplicate message), or being sent: an attempt that
        // stopped mid-send longer ago than `STALE_SENDING` ends as failed (whether it
        // went is unknown, and it is not sent twice); otherwise look again once the
        // other attempt has finished or counts as interrupted.
        if store.fail_stale(cart_id, step, now - STALE_SENDING, STALE_CAUSE, now).await? {
            return Ok(Next::Ack);
        }
        return Ok(match store.state(cart_id, step).await? {
            Some(DeliveryState::Sending) => Next::RetryIn(STALE_SENDING + Duration::seconds(60)),
            _ => Next::Ack,
        });
    };
    // A store or the cart's object not answering is a temporary failure like any other.
    let result = attempt(ports, cart_id, step, sending.channel, sending.address.as_ref())
        .await
        .unwrap_or_else(|e| SendOutcome::Temporary { cause: e.0, retry_after: None });
    let (ending, next) = match result {
        SendOutcome::Delivered => (Ending::Sent, Next::Ack),
        SendOutcome::Gone { status } => (Ending::Failed { cause: format!("the push subscription is gone ({status}); removed") }, Next::Ack),
        SendOutcome::Failed { cause } => (Ending::Failed { cause }, Next::Ack),
        SendOutcome::Temporary { cause, retry_after } => match policy.retry.next_wait(sending.attempts, retry_after) {
            Some(wait) => (Ending::Retrying { cause }, Next::RetryIn(wait.max(Duration::seconds(1)))),
            None => (Ending::Failed { cause: format!("gave up after {} attempts; last: {cause}", sending.attempts) }, Next::Ack),
        },
    };
    store.finish(cart_id, step, sending.channel, &ending, ports.now()).await?;
    Ok(next)
}

/// One attempt: the cart as it is now, then the send (or why it is not sent).
async fn attempt<P: ReminderPorts>(ports: &P, cart_id: &CartId, step: u32, channel: ReminderChannel, address: Option<&Email>) -> Result<SendOutcome, Unavailable> {
    let cart = ports.carts().cart(cart_id).await?;
    let cart = match (cart_state(cart.as_ref()), cart) {
        (CartState::Waiting, Some(cart)) => cart,
        (state, _) => return Ok(SendOutcome::Failed { cause: format!("not sent: the cart is {state:?} at send time").to_lowercase() }),
    };
    match channel {
        ReminderChannel::Push => push_to_every_device(ports, &cart, step).await,
        ReminderChannel::Email => match address {
            Some(to) => ports.sender().email(&cart, step, to).await,
            None => Ok(SendOutcome::Failed { cause: "no email address".into() }),
        },
    }
}

/// Sends the push to every live subscription of the cart and its customer: sent when
/// any device took it; retried only when none did (so no device gets it twice); a gone
/// subscription is removed (when D1 answers).
async fn push_to_every_device<P: ReminderPorts>(ports: &P, cart: &Cart, step: u32) -> Result<SendOutcome, Unavailable> {
    let devices = ports.store().reachable_devices(&cart.id, cart.customer_id.as_ref()).await?;
    if devices.is_empty() {
        return Ok(SendOutcome::Failed { cause: "no live push subscription at send time".into() });
    }
    let outcomes = ports.sender().push(cart, step, &devices).await?;
    for (device, outcome) in devices.iter().zip(&outcomes) {
        if matches!(outcome, SendOutcome::Gone { .. }) {
            // Best effort: failing the attempt here would send the devices that took the
            // push a second time; a device left behind answers 410 again and goes then.
            let _ = ports.store().forget_device(&device.endpoint).await;
        }
    }
    Ok(combine(outcomes))
}
