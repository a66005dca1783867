//! The Durable Objects (a style's stock, a cart and its reminder schedule) and the typed clients the rest of the
//! worker calls them with, over one small command protocol.

pub mod cart;
pub mod cart_client;
pub mod cart_reminders;
pub mod protocol;
pub mod stock;
pub mod stock_client;
pub mod stock_legacy;
pub mod stock_rows;
pub mod stock_views;
