//! Stock: the ledger of one SKU across every location (on hand, held in carts,
//! committed to orders), the adjustments stock systems send, the lookups that join
//! counts with locations, and the shorter holds of a scarce SKU.

pub mod adjustment;
pub mod availability;
pub mod ledger;
pub mod rows;
pub mod scarcity;
