//! The reminder queue's consumer: binds the reminder workflow
//! (`omniedge::workflows::reminders`, where deciding, claiming, taking, sending and
//! ending a delivery live) to D1, the cart objects, the queue and the transports
//! (`sender`), runs it for each message, and acks or retries the message as it says.

mod email;
pub mod push;
mod sender;

use crate::config::{self, ReminderSettings};
use crate::d1;
use crate::d1::reminders::D1Reminders;
use crate::http::error::ApiResult;
use crate::objects::cart_client::CartObjects;
use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use omniedge::engagement::delivery::ReminderMessage;
use omniedge::workflows::ports::Unavailable;
use omniedge::workflows::reminders::ports::{ReminderPorts, ReminderQueue};
use omniedge::workflows::reminders::{handle as run, Next, ReminderPolicy};
use sender::Transports;
use worker::{Env, Message, MessageBatch, MessageExt, Queue, QueueRetryOptionsBuilder};

/// How long a message waits when the deployment's reminder settings are broken.
const MISCONFIGURED_RETRY_SECONDS: u32 = 300;
/// How long a message waits when D1 or an object did not answer.
const UNAVAILABLE_RETRY_SECONDS: u32 = 5;

/// The reminder queue as the workflow's hand-off.
pub struct QueueBinding(Queue);

impl QueueBinding {
    pub fn new(env: &Env) -> ApiResult<Self> {
        Ok(QueueBinding(env.queue("REMINDERS")?))
    }
}

impl ReminderQueue for QueueBinding {
    async fn hand_on(&self, message: &ReminderMessage) -> Result<(), Unavailable> {
        self.0.send(message).await.map_err(|e| Unavailable(format!("reminder queue: {e}")))
    }
}

/// The reminder workflow's ports bound to the platform.
pub struct ReminderEdge<'a> {
    store: D1Reminders,
    carts: CartObjects<'a>,
    queue: QueueBinding,
    sender: Transports<'a>,
}

impl<'a> ReminderEdge<'a> {
    pub fn new(env: &'a Env, settings: &'a ReminderSettings) -> ApiResult<Self> {
        Ok(ReminderEdge {
            store: D1Reminders { db: d1::database(env)? },
            carts: CartObjects { env },
            queue: QueueBinding::new(env)?,
            sender: Transports { env, settings, db: d1::database(env)? },
        })
    }
}

impl<'a> ReminderPorts for ReminderEdge<'a> {
    type Store = D1Reminders;
    type Carts = CartObjects<'a>;
    type Queue = QueueBinding;
    type Sender = Transports<'a>;
    fn store(&self) -> &D1Reminders {
        &self.store
    }
    fn carts(&self) -> &CartObjects<'a> {
        &self.carts
    }
    fn queue(&self) -> &QueueBinding {
        &self.queue
    }
    fn sender(&self) -> &Transports<'a> {
        &self.sender
    }
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
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
    let ports = match ReminderEdge::new(env, &settings) {
        Ok(ports) => ports,
        Err(e) => {
            worker::console_error!("reminders: {} (will retry)", e.0.detail);
            return batch.retry_all_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(UNAVAILABLE_RETRY_SECONDS).build());
        }
    };
    let policy = ReminderPolicy { sequence: &settings.sequence, cap: settings.cap, retry: settings.retry };
    join_all(messages.iter().map(|message| handle(message, &ports, &policy))).await;
}

async fn handle(message: &Message<serde_json::Value>, ports: &ReminderEdge<'_>, policy: &ReminderPolicy<'_>) {
    let parsed: ReminderMessage = match serde_json::from_value(message.body().clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            worker::console_error!("reminders: dropped an unreadable message: {e}");
            return message.ack();
        }
    };
    let retry_in = |seconds: u32| message.retry_with_options(&QueueRetryOptionsBuilder::new().with_delay_seconds(seconds).build());
    match run(ports, policy, &parsed).await {
        Ok(Next::Ack) => message.ack(),
        Ok(Next::RetryIn(wait)) => retry_in(wait.num_seconds().max(1) as u32),
        Ok(Next::Drop(why)) => {
            worker::console_error!("reminders: {why}");
            message.ack();
        }
        Err(e) => {
            // D1 or an object did not answer: the message comes back (its key makes that safe).
            worker::console_error!("reminders: {e} (will retry)");
            retry_in(UNAVAILABLE_RETRY_SECONDS);
        }
    }
}
