//! Stock: the ledger of one SKU across every location (on hand, held in carts,
//! committed to orders), the adjustments stock systems send, and the lookups that
//! join counts with locations.

pub mod adjustment;
pub mod availability;
pub mod ledger;
pub mod rows;
