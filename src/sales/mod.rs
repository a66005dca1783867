//! Selling: carts, where a cart or order comes from, which location fulfils which
//! line, how it is handed over, the order with its lifecycle, and store credit spent at checkout.

pub mod allocation;
pub mod cart;
pub mod fulfilment;
pub mod order;
pub mod origin;
pub mod placement;
pub mod store_credit;
