//! The reminder queue's consumer. `StepDue` (from a cart's alarm): gather the facts,
//! decide (`omniedge::engagement::decision`), log a skip with its reason, or claim the
//! step's delivery key together with what the cart then owes (handing the delivery to
//! the queue) in one D1 batch, and settle that. `Deliver`: take the delivery for
//! sending (one taker, from `queued` or `retrying` only, so a second alarm or a
//! redelivered message never sends twice), render it from the cart as it is now, send
//! it, and end it as `sent`, `failed` with its cause, or `retrying` (the message comes
//! back after the backoff). A message that finds its delivery being sent looks again
//! later; one left `sending` by an attempt that died ends as `failed` (at most once,
//! never silently lost).

mod email;
pub mod push;

use crate::config::{self, ReminderSettings};
use crate::d1;
use crate::d1::reminders::{Claimed, Delivery, StoredSubscription, Taken};
use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use crate::objects::cart::{CartCommand, CartRefusal};
use crate::objects::cart_client::CartClient;
use chrono::{Duration, Utc};
use futures_util::future::join_all;
use omniedge::customers::Customer;
use omniedge::engagement::decision::{decide, CartState, Decision, Reach, SkipReason, StepFacts};
use omniedge::engagement::delivery::{combine, outcome, ReminderMessage, SendOutcome};
use omniedge::engagement::email::{render, EmailLine};
use omniedge::engagement::links::{sign, LinkClaim};
use omniedge::engagement::push::{reminder_notification, topic};
use omniedge::engagement::ReminderChannel;
use omniedge::sales::cart::{Cart, CartStatus, CartView};
use omniedge::shared::ids::{CartId, Sku};
use sha2::{Digest, Sha256};
use worker::{Env, Message, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

/// A delivery left `sending` this long was interrupted mid-send.
const STALE_SENDING_MINUTES: i64 = 5;
/// How long a message waits when the deployment's reminder settings are broken.
const MISCONFIGURED_RETRY_SECONDS: u32 = 300;

/// What to do with a message after handling it.
enum Next {
    Ack,
    RetryIn(u32),
}

pub async fn consume(batch: MessageBatch<serde_json::Value>, env: &Env) {
    let messages = match batch.messages() {
        Ok(messages) => messages,
        Err(e) => return worker::console_error!("reminders: unreadable batch: {e}"),
    };
    let settings = match config::reminder_settings(env) {
        Ok(settings) => settings,
        Err(e) => {
            worker::console_error!("reminders: not sent, the configuration is broken: {e}");
            return batch.retry_all_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(MISCONFIGURED_RETRY_SECONDS).build());
        }
    };
    join_all(messages.iter().map(|message| handle(message, env, &settings))).await;
}

async fn handle(message: &Message<serde_json::Value>, env: &Env, settings: &ReminderSettings) {
    let parsed: Result<ReminderMessage, _> = serde_json::from_value(message.body().clone());
    let next = match parsed {
        Ok(ReminderMessage::StepDue { cart_id, step }) => step_due(env, settings, &cart_id, step).await.map(|()| Next::Ack),
        Ok(ReminderMessage::Deliver { cart_id, step }) => deliver(env, settings, &cart_id, step).await,
        Err(e) => {
            worker::console_error!("reminders: dropped an unreadable message: {e}");
            Ok(Next::Ack)
        }
    };
    match next {
        Ok(Next::Ack) => message.ack(),
        Ok(Next::RetryIn(seconds)) => message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(seconds).build()),
        Err(e) => {
            // D1 or an object did not answer: the message comes back (its key makes that safe).
            worker::console_error!("reminders: {} (will retry)", e.0.detail);
            message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(5).build());
        }
    }
}

/// The cart, or None when it no longer exists.
async fn read_cart(env: &Env, id: &CartId) -> ApiResult<Option<Cart>> {
    match CartClient::for_cart(env, id)?.ask(CartCommand::Get).await? {
        Ok(cart) => Ok(Some(cart)),
        Err(CartRefusal::NoSuchCart(_)) => Ok(None),
        Err(refusal) => Err(Problem::from(refusal).into()),
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
fn shopper(channel: ReminderChannel, customer: Option<&Customer>, cart: &Cart, subscriptions: &[StoredSubscription]) -> String {
    match (channel, customer) {
        (_, Some(c)) => format!("customer:{}", c.id),
        (ReminderChannel::Email, None) => cart.contact.email.as_ref().map_or_else(|| format!("cart:{}", cart.id), |e| format!("email:{}", e.as_str())),
        (ReminderChannel::Push, None) => subscriptions
            .first()
            .map_or_else(|| format!("cart:{}", cart.id), |s| format!("browser:{}", hex::encode(&Sha256::digest(s.endpoint.as_bytes())[..12]))),
    }
}

async fn step_due(env: &Env, settings: &ReminderSettings, cart_id: &CartId, number: u32) -> ApiResult<()> {
    let db = d1::database(env)?;
    let Some(step) = settings.sequence.step(number) else {
        worker::console_error!("reminders: cart {cart_id} step {number} is not in REMINDER_SEQUENCE any more");
        return Ok(());
    };
    if d1::reminders::delivery_exists(&db, cart_id, number).await? {
        return settle_cart(env, cart_id).await;
    }
    let now = Utc::now();
    let cart = read_cart(env, cart_id).await?;
    let Some(cart) = cart else {
        return d1::reminders::log(&db, cart_id, number, step.channel, "skipped", Some(SkipReason::CartGone.as_str())).await;
    };
    let customer = match &cart.customer_id {
        Some(id) => d1::customers::get(&db, id).await?,
        None => None,
    };
    let address = customer.as_ref().map(|c| c.email.clone()).or_else(|| cart.contact.email.clone());
    let subscriptions = match step.channel {
        ReminderChannel::Push => d1::reminders::reachable_subscriptions(&db, cart_id, cart.customer_id.as_ref()).await?,
        ReminderChannel::Email => Vec::new(),
    };
    let shopper = shopper(step.channel, customer.as_ref(), &cart, &subscriptions);
    let profile_consent = customer.as_ref().is_some_and(|c| match step.channel {
        ReminderChannel::Email => c.consents.email_reminders,
        ReminderChannel::Push => c.consents.push_reminders,
    });
    let consent = d1::reminders::latest_consent(&db, cart_id, cart.customer_id.as_ref(), step.channel).await?.unwrap_or(profile_consent);
    let unsubscribed = match (&address, step.channel) {
        (Some(address), ReminderChannel::Email) => d1::reminders::is_unsubscribed(&db, step.channel, address).await?,
        _ => false,
    };
    let facts = StepFacts {
        cart: cart_state(Some(&cart)),
        quiet_since: cart.updated_at,
        delay: step.delay,
        now,
        ordered_since: d1::reminders::ordered_since(&db, cart_id, cart.customer_id.as_ref(), address.as_ref(), cart.updated_at).await?,
        reach: match step.channel {
            ReminderChannel::Email => Reach::Email(address.clone()),
            ReminderChannel::Push => Reach::Push { live_subscriptions: subscriptions.len() as u32 },
        },
        consent,
        unsubscribed,
        last_reminded: d1::reminders::last_reminded(&db, &shopper, step.channel).await?,
        cap: settings.cap,
    };
    match decide(&facts) {
        Decision::NotYetDue => Ok(()),
        Decision::Skip(reason) => d1::reminders::log(&db, cart_id, number, step.channel, "skipped", Some(reason.as_str())).await,
        Decision::Send => {
            let delivery = Delivery { cart: cart_id, step: number, channel: step.channel, shopper: &shopper, address: address.as_ref().filter(|_| step.channel == ReminderChannel::Email) };
            match d1::reminders::claim(&db, &delivery, now - settings.cap, now).await? {
                Claimed::Mine | Claimed::Before => settle_cart(env, cart_id).await,
                Claimed::Capped => d1::reminders::log(&db, cart_id, number, step.channel, "skipped", Some(SkipReason::FrequencyCap.as_str())).await,
            }
        }
    }
}

/// Applies what a cart owes (hands its deliveries to the queue) and crosses it off.
pub async fn settle_cart(env: &Env, cart_id: &CartId) -> ApiResult<()> {
    let db = d1::database(env)?;
    let queue = env.queue("REMINDERS")?;
    for owed in d1::reminders::owed_by_cart(&db, cart_id).await? {
        queue.send(owed.effect.message()).await?;
        d1::reminders::settled(&db, owed.seq).await?;
    }
    Ok(())
}

async fn deliver(env: &Env, settings: &ReminderSettings, cart_id: &CartId, step: u32) -> ApiResult<Next> {
    let db = d1::database(env)?;
    let stale = Duration::minutes(STALE_SENDING_MINUTES);
    let sending = match d1::reminders::take_for_sending(&db, cart_id, step, stale).await? {
        Taken::Mine(sending) => sending,
        // Look again once the other attempt has either finished or counts as interrupted.
        Taken::InFlight => return Ok(Next::RetryIn((stale.num_seconds() + 60) as u32)),
        Taken::Settled => return Ok(Next::Ack),
    };
    let channel = ReminderChannel::parse(&sending.channel).ok_or_else(Problem::internal)?;
    let result = match attempt(env, settings, cart_id, step, channel, sending.address.as_deref()).await {
        Ok(result) => result,
        // D1 or the cart's object did not answer: a temporary failure like any other.
        Err(e) => SendOutcome::Temporary { cause: e.0.detail, retry_after: None },
    };
    let finish = |state: &'static str, cause: Option<String>| async move { d1::reminders::finish(&db, cart_id, step, channel, state, cause.as_deref()).await };
    match result {
        SendOutcome::Delivered => finish("sent", None).await.map(|()| Next::Ack),
        SendOutcome::Gone { status } => finish("failed", Some(format!("the push subscription is gone ({status}); removed"))).await.map(|()| Next::Ack),
        SendOutcome::Failed { cause } => finish("failed", Some(cause)).await.map(|()| Next::Ack),
        SendOutcome::Temporary { cause, retry_after } => match settings.retry.next_wait(sending.attempts, retry_after) {
            Some(wait) => finish("retrying", Some(cause)).await.map(|()| Next::RetryIn(wait.num_seconds().max(1) as u32)),
            None => finish("failed", Some(format!("gave up after {} attempts; last: {cause}", sending.attempts))).await.map(|()| Next::Ack),
        },
    }
}

/// One attempt: the cart as it is now, then the send (or why it is not sent).
async fn attempt(env: &Env, settings: &ReminderSettings, cart_id: &CartId, step: u32, channel: ReminderChannel, address: Option<&str>) -> ApiResult<SendOutcome> {
    let cart = read_cart(env, cart_id).await?;
    match (cart_state(cart.as_ref()), cart) {
        (CartState::Waiting, Some(cart)) => send(env, settings, &cart, step, channel, address).await,
        (state, _) => Ok(SendOutcome::Failed { cause: format!("not sent: the cart is {state:?} at send time").to_lowercase() }),
    }
}

/// Renders the step's reminder from the cart as it is now and sends it.
async fn send(env: &Env, settings: &ReminderSettings, cart: &Cart, step: u32, channel: ReminderChannel, address: Option<&str>) -> ApiResult<SendOutcome> {
    let db = d1::database(env)?;
    let skus: Vec<Sku> = cart.lines.iter().map(|l| l.sku.clone()).collect();
    let catalog = d1::catalog::many_cached(&db, &skus).await?;
    let view = CartView::of(cart, &catalog).map_err(Problem::from)?;
    let reminder = sign(&settings.link_keys, &LinkClaim::Reminder { cart_id: cart.id.clone(), step, channel });
    let tracked = settings.api_link(&format!("/v1/reminders/click/{reminder}"));
    match channel {
        ReminderChannel::Push => {
            let names: Vec<&str> = view.lines.iter().map(|l| l.priced.name.as_str()).collect();
            let shown = settings.api_link(&format!("/v1/reminders/shown/{reminder}"));
            let notification = reminder_notification(&names, tracked, shown, settings.icon.clone(), &cart.id);
            let Some(payload) = notification.payload() else {
                return Ok(SendOutcome::Failed { cause: "the notification is over 3,993 bytes (check REMINDER_CART_URL and REMINDER_PUBLIC_URL)".into() });
            };
            push_to_every_device(env, settings, cart, &payload).await
        }
        ReminderChannel::Email => {
            let email_settings = match config::email_settings(env) {
                Ok(s) => s,
                Err(cause) => return Ok(SendOutcome::Failed { cause }),
            };
            let Some(to) = address.and_then(|a| omniedge::customers::Email::parse(a).ok()) else {
                return Ok(SendOutcome::Failed { cause: "no email address".into() });
            };
            let Some(subtotal) = view.subtotal.as_ref() else {
                return Ok(SendOutcome::Failed { cause: "not sent: the cart is empty at send time".into() });
            };
            let lines: Vec<EmailLine> = view.lines.iter().map(|l| EmailLine::of(&l.priced, catalog.iter().find(|p| p.sku == l.priced.sku))).collect();
            let unsubscribe = settings.api_link(&format!("/v1/reminders/unsubscribe?token={}", sign(&settings.link_keys, &LinkClaim::Unsubscribe { address: to.clone() })));
            let mail = render(to, &lines, subtotal, &tracked, &unsubscribe);
            Ok(email::send(env, &email_settings, &mail, &format!("reminder:{}:{step}", cart.id)).await)
        }
    }
}

/// Sends the push to every live subscription of the cart and its customer: sent when
/// any device took it; retried only when none did (so no device gets it twice); a gone
/// subscription is removed.
async fn push_to_every_device(env: &Env, settings: &ReminderSettings, cart: &Cart, payload: &[u8]) -> ApiResult<SendOutcome> {
    let db = d1::database(env)?;
    let vapid = match (config::vapid_private_key(env).map(|k| push::VapidKey::parse(&k)), config::vapid_subject(env)) {
        (Some(Ok(key)), Ok(subject)) => (key, subject),
        (None, _) => return Ok(SendOutcome::Failed { cause: "VAPID_PRIVATE_KEY is not set".into() }),
        (Some(Err(cause)), _) | (_, Err(cause)) => return Ok(SendOutcome::Failed { cause }),
    };
    let subscriptions = d1::reminders::reachable_subscriptions(&db, &cart.id, cart.customer_id.as_ref()).await?;
    if subscriptions.is_empty() {
        return Ok(SendOutcome::Failed { cause: "no live push subscription at send time".into() });
    }
    let topic = topic(&cart.id);
    let answers = join_all(subscriptions.iter().map(|s| push::send(&vapid.0, &vapid.1, s, settings.transport, payload, &topic))).await;
    let mut outcomes = Vec::new();
    for (subscription, answer) in subscriptions.iter().zip(answers) {
        let read = match answer {
            Ok(answer) => outcome(answer.status, answer.retry_after.as_deref(), Utc::now(), true),
            Err(cause) => SendOutcome::Temporary { cause, retry_after: None },
        };
        if matches!(read, SendOutcome::Gone { .. }) {
            d1::reminders::forget_endpoint(&db, &subscription.endpoint).await?;
        }
        outcomes.push(read);
    }
    Ok(combine(outcomes))
}
