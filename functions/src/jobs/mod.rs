//! Work off the request path: the cron's sweeper and the reminder queue's consumer.

pub mod reminders;
pub mod sweeper;
