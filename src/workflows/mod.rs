//! The flows that span D1 and the Durable Objects: placing an order, moving it on,
//! settling what it owes, sweeping, returns. Written against ports (`ports`), so they run
//! natively over in-memory fakes in a crash simulation (`simulation`, tests only) and,
//! in the worker, over D1 and the objects. `effects` is the one mechanism by which a
//! flow changes two stores.

pub mod effects;
pub mod lifecycle;
pub mod placement;
pub mod ports;
pub mod returns;
pub mod reminders;
pub mod settlement;

#[cfg(test)]
mod simulation;
