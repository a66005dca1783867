//! omniedge's domain: what a retailer's stock, locations, catalog and access rules
//! are, in plain Rust with no Workers dependency, so it can be tested natively and
//! under wasm alike. The `functions/` crate binds it to HTTP, Durable Objects and D1.

pub mod access;
pub mod adjustment;
pub mod allocation;
pub mod availability;
pub mod cart;
pub mod catalog;
pub mod channel;
pub mod coupon;
pub mod customer;
pub mod fulfilment;
pub mod geo;
pub mod ids;
pub mod location;
pub mod money;
pub mod order;
pub mod placement;
pub mod pricing;
pub mod problem;
pub mod quantity;
pub mod stock;

pub use problem::Problem;
