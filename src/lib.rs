//! omniedge's domain: what a retailer's stock, locations, catalog, carts, orders and
//! access rules are, and the workflows that move them, in plain Rust with no Workers
//! dependency, so it can be tested natively and under wasm alike. The `functions/`
//! crate binds it to HTTP, Durable Objects and D1.
//!
//! One folder (or file) per bounded context:
//! - `shared`: ids, quantities, money, positions, free text, sales channels;
//! - `access`: who calls (admin, store, storefront keys) and what each may do;
//! - `catalog`, `locations`, `customers`: what is sold, where, and to whom;
//! - `inventory`: the stock ledger of a SKU (holds, commitments), adjustments, lookups;
//! - `pricing`: line totals, discounts, delivery charges, coupons;
//! - `sales`: carts, where an order comes from, allocation, fulfilment, the order;
//! - `returns`: returns of handed-over orders: eligibility, refunds, receipt;
//! - `engagement`: cart-abandonment reminders: sequence, consent, decision, push, email;
//! - `workflows`: the flows that span D1 and the Durable Objects, over ports.

// Tests may unwrap: a panic there is a failed test, with its message.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod access;
pub mod catalog;
pub mod customers;
pub mod engagement;
pub mod inventory;
pub mod locations;
pub mod pricing;
pub mod returns;
pub mod sales;
pub mod shared;
pub mod workflows;
