//! The reminder sequence a deployment configures (`REMINDER_SEQUENCE`): steps, each a
//! channel and a delay after the cart's last change, e.g. `push@20m,email@20m` (the
//! default: both together 20 minutes after the cart goes quiet), `email@15m,push@20m`
//! or `email@1h,email@1d` (the frequency cap still applies to every step).
//! Steps are numbered from 1 in the order written; every change to the cart starts the
//! wait again.

use super::{parse_span, ReminderChannel};
use chrono::{DateTime, Duration, Utc};

/// The default sequence: push and email together, 20 minutes after the last change.
pub const DEFAULT_SEQUENCE: &str = "push@20m,email@20m";
/// Most steps a sequence may have.
pub const MAX_STEPS: usize = 10;
/// Longest delay a step may have.
pub const MAX_DELAY_DAYS: i64 = 30;

/// One step: which channel, how long after the cart's last change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderStep {
    /// 1-based, in the order the sequence is written.
    pub number: u32,
    pub channel: ReminderChannel,
    pub delay: Duration,
}

/// A valid sequence: 1 to [`MAX_STEPS`] steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSequence {
    steps: Vec<ReminderStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSequence {
    #[error("REMINDER_SEQUENCE has no steps; write e.g. \"push@20m,email@20m\"")]
    Empty,
    #[error("REMINDER_SEQUENCE step {0:?} is not <email|push>@<delay> with a delay like 90s, 20m, 2h or 1d")]
    Step(String),
    #[error("REMINDER_SEQUENCE step {0:?}: a delay is at most {MAX_DELAY_DAYS} days")]
    TooLate(String),
    #[error("REMINDER_SEQUENCE has more than {MAX_STEPS} steps")]
    TooManySteps,
}

impl ReminderSequence {
    pub fn parse(text: &str) -> Result<Self, InvalidSequence> {
        let mut steps = Vec::new();
        for (i, part) in text.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
            let (channel, delay) = part.split_once('@').ok_or_else(|| InvalidSequence::Step(part.to_owned()))?;
            let channel = ReminderChannel::parse(channel.trim()).ok_or_else(|| InvalidSequence::Step(part.to_owned()))?;
            let delay = parse_span(delay).ok_or_else(|| InvalidSequence::Step(part.to_owned()))?;
            if delay > Duration::days(MAX_DELAY_DAYS) {
                return Err(InvalidSequence::TooLate(part.to_owned()));
            }
            steps.push(ReminderStep { number: i as u32 + 1, channel, delay });
        }
        match steps.len() {
            0 => Err(InvalidSequence::Empty),
            n if n > MAX_STEPS => Err(InvalidSequence::TooManySteps),
            _ => Ok(ReminderSequence { steps }),
        }
    }

    pub fn steps(&self) -> &[ReminderStep] {
        &self.steps
    }

    pub fn step(&self, number: u32) -> Option<ReminderStep> {
        self.steps.iter().copied().find(|s| s.number == number)
    }

    /// Steps due at `now` for a cart quiet since `quiet_since`.
    pub fn due(&self, quiet_since: DateTime<Utc>, now: DateTime<Utc>) -> Vec<ReminderStep> {
        self.steps.iter().copied().filter(|s| quiet_since + s.delay <= now).collect()
    }

    /// When the next step after `now` falls due, for a cart quiet since `quiet_since`.
    pub fn next_due(&self, quiet_since: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.steps.iter().map(|s| quiet_since + s.delay).filter(|at| *at > now).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_default_sends_push_and_email_together_after_twenty_minutes() {
        let sequence = ReminderSequence::parse(DEFAULT_SEQUENCE).unwrap();
        let numbers: Vec<(u32, ReminderChannel)> = sequence.steps().iter().map(|s| (s.number, s.channel)).collect();
        assert_eq!(numbers, vec![(1, ReminderChannel::Push), (2, ReminderChannel::Email)]);
        assert!(sequence.due(at(0), at(1199)).is_empty());
        assert_eq!(sequence.due(at(0), at(1200)).len(), 2);
        assert_eq!(sequence.next_due(at(0), at(5)), Some(at(1200)));
        assert_eq!(sequence.next_due(at(0), at(1200)), None);
    }

    #[test]
    fn steps_fall_due_one_after_another() {
        let sequence = ReminderSequence::parse("email@15m, push@20m").unwrap();
        assert_eq!(sequence.due(at(0), at(900)).iter().map(|s| s.number).collect::<Vec<_>>(), vec![1]);
        assert_eq!(sequence.next_due(at(0), at(900)), Some(at(1200)));
        assert_eq!(sequence.step(2).unwrap().channel, ReminderChannel::Push);
        assert_eq!(sequence.step(3), None);
    }

    #[test]
    fn invalid_sequences_say_what_is_wrong() {
        assert_eq!(ReminderSequence::parse(""), Err(InvalidSequence::Empty));
        assert_eq!(ReminderSequence::parse("sms@20m"), Err(InvalidSequence::Step("sms@20m".into())));
        assert_eq!(ReminderSequence::parse("push20m"), Err(InvalidSequence::Step("push20m".into())));
        assert_eq!(ReminderSequence::parse("push@0m"), Err(InvalidSequence::Step("push@0m".into())));
        assert_eq!(ReminderSequence::parse("push@31d"), Err(InvalidSequence::TooLate("push@31d".into())));
        assert_eq!(ReminderSequence::parse(&["push@1m"; 11].join(",")), Err(InvalidSequence::TooManySteps));
        assert_eq!(ReminderSequence::parse("email@1h,email@1d").unwrap().steps().len(), 2, "a second email a day later");
    }
}
