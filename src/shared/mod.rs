//! The vocabulary every context shares: ids, quantities, money, positions and
//! distances, free-text fields, the sales channels, and how request bodies are read.

pub mod channel;
pub mod geo;
pub mod ids;
pub mod json;
pub mod money;
pub mod quantity;
pub mod text;
