//! HTTP handlers, one file per capability. Each parses input into domain types,
//! checks the caller, calls the domain or a store, and renders the answer.

pub mod api_keys;
pub mod carts;
pub mod catalog;
pub mod coupons;
pub mod customers;
pub mod locations;
pub mod meta;
pub mod orders;
pub mod reminders;
pub mod returns;
pub mod sessions;
pub mod stock;
