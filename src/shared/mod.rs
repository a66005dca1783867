//! The vocabulary every context shares: ids, quantities, money, positions and
//! distances, free-text fields, and the sales channels.

pub mod channel;
pub mod geo;
pub mod ids;
pub mod money;
pub mod quantity;
pub mod text;
