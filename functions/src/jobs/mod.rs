//! Work off the request path: the cron's sweeper.

pub mod sweeper;
