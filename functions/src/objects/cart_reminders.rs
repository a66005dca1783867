//! A cart's reminder schedule, kept by its Durable Object. Every change re-arms the
//! object's alarm for the first step of the sequence after the change; when the alarm
//! fires, each step due since the cart's last change that was not yet handed on goes to
//! the reminder queue (`StepDue`, where it is decided and logged) and the alarm is set
//! for the next step. A failed queue send fails the alarm, which the runtime retries;
//! a step handed on twice is decided once (its delivery key in D1).

use crate::config;
use chrono::{DateTime, SecondsFormat, Utc};
use omniedge::engagement::delivery::ReminderMessage;
use omniedge::sales::cart::{Cart, CartStatus};
use serde::Deserialize;
use worker::{Env, Result, SqlStorage, State, Storage};

pub struct ReminderSchedule {
    storage: Storage,
    sql: SqlStorage,
    env: Env,
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
        ReminderSchedule { storage: state.storage(), sql, env }
    }

    /// After a change: the alarm is set for the first step after it, or cleared when the
    /// cart has nothing to remind of (empty, ordered) or reminders are off.
    pub async fn arm(&self, cart: &Cart) -> Result<()> {
        let sequence = match config::reminder_sequence(&self.env) {
            Ok(Some(sequence)) if waiting(cart) => sequence,
            Ok(_) => return self.storage.delete_alarm().await,
            Err(e) => {
                worker::console_error!("reminders not armed: {e}");
                return Ok(());
            }
        };
        self.sql.exec("DELETE FROM reminder_steps WHERE quiet_since <> ?", vec![quiet_key(cart.updated_at).into()])?;
        match sequence.next_due(cart.updated_at, cart.updated_at) {
            Some(at) => self.storage.set_alarm(at).await,
            None => Ok(()),
        }
    }

    /// The alarm: hands every due step not yet handed on to the queue, then sets the alarm for the next.
    pub async fn fire(&self, cart: Option<Cart>) -> Result<()> {
        let (Some(cart), Ok(Some(sequence))) = (cart, config::reminder_sequence(&self.env)) else {
            return Ok(());
        };
        if !waiting(&cart) {
            return Ok(());
        }
        let now = Utc::now();
        let quiet = quiet_key(cart.updated_at);
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
