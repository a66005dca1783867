//! A cart's reminder schedule, kept by its Durable Object. A change to a cart with lines
//! makes sure an alarm is set (once per quiet spell: the object remembers that one is
//! pending, so a busy cart pays nothing per click); the alarm fires at the earliest
//! possible due time, and, when the cart changed meanwhile, simply moves itself to the
//! first step after the last change. Each step due since the cart's last change that was
//! not yet handed on goes to the reminder queue (`StepDue`, where it is decided and
//! logged) and the alarm is set for the next step. A failed queue send fails the alarm,
//! which the runtime retries; a step handed on twice is decided once (its delivery key
//! in D1).

use crate::config;
use chrono::{DateTime, SecondsFormat, Utc};
use omniedge::engagement::delivery::ReminderMessage;
use omniedge::engagement::sequence::ReminderSequence;
use omniedge::sales::cart::{Cart, CartStatus};
use serde::Deserialize;
use std::cell::Cell;
use worker::{Env, Result, SqlStorage, State, Storage};

pub struct ReminderSchedule {
    storage: Storage,
    sql: SqlStorage,
    env: Env,
    /// The deployment's sequence, read once per object instance (None: off or malformed).
    sequence: Option<ReminderSequence>,
    /// Whether an alarm is known to be pending (None: not known since the object started).
    armed: Cell<Option<bool>>,
}

fn quiet_key(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn waiting(cart: &Cart) -> bool {
    matches!(cart.status, CartStatus::Open) && !cart.lines.is_empty()
}

impl ReminderSchedule {
    pub fn new(state: &State, env: Env) -> Self {
        let sql = state.storage().sql();
        // Which steps were handed on for which quiet spell (the cart's last change).
        sql.exec("CREATE TABLE IF NOT EXISTS reminder_steps (quiet_since TEXT NOT NULL, step INTEGER NOT NULL, PRIMARY KEY (quiet_since, step))", None)
            .expect("cart reminder schedule schema");
        let sequence = config::reminder_sequence(&env).unwrap_or_else(|e| {
            worker::console_error!("reminders not armed: {e}");
            None
        });
        ReminderSchedule { storage: state.storage(), sql, env, sequence, armed: Cell::new(None) }
    }

    /// After a change: a cart with lines gets an alarm unless one is pending. An emptied
    /// or ordered cart keeps whatever is set: the alarm then finds nothing to remind of.
    pub async fn arm(&self, cart: &Cart) -> Result<()> {
        let Some(sequence) = &self.sequence else { return Ok(()) };
        if !waiting(cart) || self.armed.get() == Some(true) {
            return Ok(());
        }
        if let Some(at) = sequence.next_due(cart.updated_at, cart.updated_at) {
            self.storage.set_alarm(at).await?;
            self.armed.set(Some(true));
        }
        Ok(())
    }

    /// The alarm: hands every due step not yet handed on to the queue, then sets the
    /// alarm for the next step after the cart's last change.
    pub async fn fire(&self, cart: Option<Cart>) -> Result<()> {
        self.armed.set(Some(false));
        let (Some(cart), Some(sequence)) = (cart, &self.sequence) else {
            return Ok(());
        };
        if !waiting(&cart) {
            return Ok(());
        }
        let now = Utc::now();
        let quiet = quiet_key(cart.updated_at);
        self.sql.exec("DELETE FROM reminder_steps WHERE quiet_since <> ?", vec![quiet.clone().into()])?;
        let queue = self.env.queue("REMINDERS")?;
        for step in sequence.due(cart.updated_at, now) {
            if self.handed_on(&quiet, step.number)? {
                continue;
            }
            queue.send(ReminderMessage::StepDue { cart_id: cart.id.clone(), step: step.number }).await?;
            self.sql.exec("INSERT OR IGNORE INTO reminder_steps (quiet_since, step) VALUES (?, ?)", vec![quiet.clone().into(), i64::from(step.number).into()])?;
        }
        if let Some(at) = sequence.next_due(cart.updated_at, now) {
            self.storage.set_alarm(at).await?;
            self.armed.set(Some(true));
        }
        Ok(())
    }

    fn handed_on(&self, quiet: &str, step: u32) -> Result<bool> {
        #[derive(Deserialize)]
        struct Row {
            n: i64,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT COUNT(*) AS n FROM reminder_steps WHERE quiet_since = ? AND step = ?", vec![quiet.into(), i64::from(step).into()])?.to_array()?;
        Ok(rows.first().is_some_and(|r| r.n > 0))
    }
}
