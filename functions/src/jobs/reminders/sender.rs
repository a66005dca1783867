//! The reminder workflow's transports: renders a step's reminder from the cart as it is
//! now (its lines priced from the catalog, the signed tracked and unsubscribe links) and
//! sends it by Web Push to each device (`push`) or by email (`email`). A setting that is
//! missing or malformed fails the send with a cause that names it.

use super::{email, push};
use crate::config::{self, ReminderSettings};
use crate::d1::order_store::OrUnavailable;
use chrono::Utc;
use futures_util::future::join_all;
use omniedge::customers::Email;
use omniedge::engagement::delivery::{outcome, SendOutcome};
use omniedge::engagement::email::{render, EmailLine};
use omniedge::engagement::links::{sign, LinkClaim};
use omniedge::engagement::push::{reminder_notification, topic};
use omniedge::engagement::ReminderChannel;
use omniedge::sales::cart::{Cart, CartView};
use omniedge::shared::ids::Sku;
use omniedge::workflows::ports::Unavailable;
use omniedge::workflows::reminders::ports::{PushDevice, Sender};
use worker::{D1Database, Env};

pub struct Transports<'a> {
    pub env: &'a Env,
    pub settings: &'a ReminderSettings,
    pub db: D1Database,
}

/// The cart priced from the catalog, and the products it was priced from.
struct Priced {
    view: CartView,
    catalog: Vec<omniedge::catalog::Product>,
}

impl Transports<'_> {
    /// A cart that does not price (e.g. a product just removed) is retried like a store that did not answer.
    async fn priced(&self, cart: &Cart) -> Result<Priced, Unavailable> {
        let skus: Vec<Sku> = cart.lines.iter().map(|l| l.sku.clone()).collect();
        let catalog = crate::d1::catalog::many_cached(&self.db, &skus).await.or_unavailable()?;
        let view = CartView::of(cart, &catalog).map_err(|e| Unavailable(format!("the cart does not price: {e}")))?;
        Ok(Priced { view, catalog })
    }

    /// The reminder's tracked link (to the cart) and its signed token.
    fn tracked(settings: &ReminderSettings, cart: &Cart, step: u32, channel: ReminderChannel) -> (String, String) {
        let reminder = sign(&settings.link_keys, &LinkClaim::Reminder { cart_id: cart.id.clone(), step, channel });
        (settings.api_link(&format!("/v1/reminders/click/{reminder}")), reminder)
    }
}

impl Sender for Transports<'_> {
    async fn push(&self, cart: &Cart, step: u32, devices: &[PushDevice]) -> Result<Vec<SendOutcome>, Unavailable> {
        let every = |failed: SendOutcome| vec![failed; devices.len()];
        let settings = self.settings;
        let vapid = match (config::vapid_private_key(self.env).map(|k| push::VapidKey::parse(&k)), config::vapid_subject(self.env)) {
            (Some(Ok(key)), Ok(subject)) => (key, subject),
            (None, _) => return Ok(every(SendOutcome::Failed { cause: "VAPID_PRIVATE_KEY is not set".into() })),
            (Some(Err(cause)), _) | (_, Err(cause)) => return Ok(every(SendOutcome::Failed { cause })),
        };
        let priced = self.priced(cart).await?;
        let (tracked, reminder) = Self::tracked(settings, cart, step, ReminderChannel::Push);
        let names: Vec<&str> = priced.view.lines.iter().map(|l| l.priced.name.as_str()).collect();
        let shown = settings.api_link(&format!("/v1/reminders/shown/{reminder}"));
        let notification = reminder_notification(&names, tracked, shown, settings.icon.clone(), &cart.id);
        let Some(payload) = notification.payload() else {
            return Ok(every(SendOutcome::Failed { cause: "the notification is over 3,993 bytes (check REMINDER_CART_URL and REMINDER_PUBLIC_URL)".into() }));
        };
        let topic = topic(&cart.id);
        let answers = join_all(devices.iter().map(|d| push::send(&vapid.0, &vapid.1, d, settings.transport, &payload, &topic))).await;
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                Ok(answer) => outcome(answer.status, answer.retry_after.as_deref(), Utc::now(), true),
                Err(cause) => SendOutcome::Temporary { cause, retry_after: None },
            })
            .collect())
    }

    async fn email(&self, cart: &Cart, step: u32, to: &Email) -> Result<SendOutcome, Unavailable> {
        let settings = self.settings;
        let email_settings = match config::email_settings(self.env) {
            Ok(s) => s,
            Err(cause) => return Ok(SendOutcome::Failed { cause }),
        };
        let priced = self.priced(cart).await?;
        let Some(subtotal) = priced.view.subtotal.as_ref() else {
            return Ok(SendOutcome::Failed { cause: "not sent: the cart is empty at send time".into() });
        };
        let (tracked, _) = Self::tracked(settings, cart, step, ReminderChannel::Email);
        let lines: Vec<EmailLine> = priced.view.lines.iter().map(|l| EmailLine::of(&l.priced, priced.catalog.iter().find(|p| p.sku == l.priced.sku))).collect();
        let unsubscribe = settings.api_link(&format!("/v1/reminders/unsubscribe?token={}", sign(&settings.link_keys, &LinkClaim::Unsubscribe { address: to.clone() })));
        let mail = render(to.clone(), &lines, subtotal, &tracked, &unsubscribe);
        Ok(email::send(self.env, &email_settings, &mail, &format!("reminder:{}:{step}", cart.id)).await)
    }
}
