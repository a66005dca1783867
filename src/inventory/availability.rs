//! Where a SKU (or every variant of a style) can be had: joins the ledger's counts
//! with the locations, filters by kind and pickup, and sorts by distance from a shopper.

use crate::catalog::Product;
use crate::shared::geo::{round_km, Position, RadiusKm};
use crate::shared::ids::{LocationId, Sku, StyleCode};
use crate::locations::{Location, LocationKind};
use crate::shared::money::Money;
use crate::inventory::ledger::LocationLevel;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How a caller narrows a lookup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StockQuery {
    /// The shopper's position: only locations with stock, nearest first.
    pub near: Option<Position>,
    pub radius: Option<RadiusKm>,
    pub kind: Option<LocationKind>,
    /// Only locations that offer pickup.
    pub pickup_only: bool,
}

/// Most SKUs one batch lookup may ask for.
pub const MAX_BATCH: usize = 100;

/// The body of a batch lookup: up to [`MAX_BATCH`] SKUs (repeats count, and are
/// answered once) with the same filters as a single lookup.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchLookup {
    pub skus: Vec<Sku>,
    #[serde(default)]
    pub near: Option<Position>,
    #[serde(default)]
    pub radius_km: Option<RadiusKm>,
    #[serde(default)]
    pub kind: Option<LocationKind>,
    #[serde(default)]
    pub pickup: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidLookup {
    #[error("ask for 1 to {MAX_BATCH} SKUs, got {0}")]
    BatchSize(usize),
    #[error("radius_km needs near")]
    RadiusWithoutNear,
}

impl BatchLookup {
    /// The distinct SKUs in the order first asked, and the query to apply to each.
    pub fn into_parts(self) -> Result<(Vec<Sku>, StockQuery), InvalidLookup> {
        let mut skus = self.skus;
        let asked = skus.len();
        if asked == 0 || asked > MAX_BATCH {
            return Err(InvalidLookup::BatchSize(asked));
        }
        let mut seen = std::collections::HashSet::new();
        skus.retain(|s| seen.insert(s.clone()));
        let query = StockQuery::new(self.near, self.radius_km, self.kind, self.pickup)?;
        Ok((skus, query))
    }
}

impl StockQuery {
    pub fn new(near: Option<Position>, radius: Option<RadiusKm>, kind: Option<LocationKind>, pickup_only: bool) -> Result<Self, InvalidLookup> {
        if radius.is_some() && near.is_none() {
            return Err(InvalidLookup::RadiusWithoutNear);
        }
        Ok(StockQuery { near, radius, kind, pickup_only })
    }
}

/// One location's stock of one SKU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationStock {
    pub location_id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    pub offers_pickup: bool,
    pub ships_orders: bool,
    pub on_hand: u32,
    pub held: u32,
    pub available: u32,
    /// Units promised to placed orders and still at the location.
    pub committed: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StockTotals {
    pub on_hand: u32,
    pub held: u32,
    pub available: u32,
    pub committed: u32,
}

/// A SKU's stock across the locations a query selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkuStock {
    pub sku: Sku,
    pub locations: Vec<LocationStock>,
    /// Sums over the listed locations.
    pub total: StockTotals,
}

/// Joins one SKU's ledger view with the locations and applies the query.
pub fn sku_stock(sku: Sku, levels: &[LocationLevel], locations: &HashMap<LocationId, Location>, query: &StockQuery) -> SkuStock {
    let mut listed: Vec<LocationStock> = levels
        .iter()
        .filter_map(|level| {
            let location = locations.get(&level.location_id)?;
            let kind_ok = query.kind.is_none_or(|k| k == location.kind);
            let pickup_ok = !query.pickup_only || location.offers_pickup;
            let distance_km = query.near.map(|origin| origin.distance_km(&location.position()));
            let near_ok = match (distance_km, query.radius) {
                (None, _) => true,
                (Some(d), radius) => level.available > 0 && radius.is_none_or(|r| d <= r.get()),
            };
            (kind_ok && pickup_ok && near_ok).then(|| LocationStock {
                location_id: level.location_id.clone(),
                name: location.name.clone(),
                kind: location.kind,
                offers_pickup: location.offers_pickup,
                ships_orders: location.ships_orders,
                on_hand: level.on_hand,
                held: level.held,
                available: level.available,
                committed: level.committed,
                distance_km: distance_km.map(round_km),
            })
        })
        .collect();
    if query.near.is_some() {
        listed.sort_by(|a, b| a.distance_km.partial_cmp(&b.distance_km).unwrap_or(std::cmp::Ordering::Equal));
    }
    let total = listed.iter().fold(StockTotals::default(), |t, l| StockTotals {
        on_hand: t.on_hand + l.on_hand,
        held: t.held + l.held,
        available: t.available + l.available,
        committed: t.committed + l.committed,
    });
    SkuStock { sku, locations: listed, total }
}

/// One size/color variant of a style and where it is available.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantStock {
    pub sku: Sku,
    pub color: String,
    pub size: String,
    pub price: Money,
    pub available: u32,
    /// Locations with the variant available (nearest first when a position was given).
    pub locations: Vec<LocationStock>,
}

/// Every variant of a style: the answer to "scan the box, which sizes are where?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StyleStock {
    pub style: StyleCode,
    pub scanned_sku: Sku,
    pub colors: Vec<String>,
    pub sizes: Vec<String>,
    pub variants: Vec<VariantStock>,
}

/// Builds the style matrix from each variant's stock, keeping only locations with stock.
pub fn style_stock(scanned: Sku, style: StyleCode, variants: Vec<(Product, SkuStock)>) -> StyleStock {
    let mut variants: Vec<VariantStock> = variants
        .into_iter()
        .map(|(product, stock)| {
            let locations: Vec<LocationStock> = stock.locations.into_iter().filter(|l| l.available > 0).collect();
            VariantStock {
                available: locations.iter().map(|l| l.available).sum(),
                sku: product.sku,
                color: product.color,
                size: product.size,
                price: product.price,
                locations,
            }
        })
        .collect();
    variants.sort_by(|a, b| (&a.color, size_order(&a.size)).cmp(&(&b.color, size_order(&b.size))));
    let mut colors: Vec<String> = variants.iter().map(|v| v.color.clone()).collect();
    colors.dedup();
    let mut sizes: Vec<String> = variants.iter().map(|v| v.size.clone()).collect();
    sizes.sort_by(|a, b| (size_order(a), a).cmp(&(size_order(b), b)));
    sizes.dedup();
    StyleStock { style, scanned_sku: scanned, colors, sizes, variants }
}

/// Orders sizes the way a shelf does: numeric sizes by value, letter sizes XS..XXL, then the rest.
fn size_order(size: &str) -> (u8, u64, String) {
    const LETTERS: [&str; 9] = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL", "4XL"];
    if let Ok(n) = size.parse::<f64>() {
        return (0, (n * 100.0) as u64, String::new());
    }
    match LETTERS.iter().position(|l| l.eq_ignore_ascii_case(size)) {
        Some(i) => (1, i as u64, String::new()),
        None => (2, 0, size.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locations::Address;

    fn location(id: &str, kind: LocationKind, lat: f64, pickup: bool) -> Location {
        Location {
            id: LocationId::parse(id).unwrap(),
            name: id.to_uppercase(),
            kind,
            address: Address { line1: "x".into(), line2: None, city: "Amsterdam".into(), postal_code: "1000".into(), country: "NL".into() },
            latitude: lat,
            longitude: 4.9,
            ships_orders: true,
            offers_pickup: pickup,
            updated_at: "t".into(),
        }
    }
    fn level(id: &str, on_hand: u32, held: u32) -> LocationLevel {
        LocationLevel { location_id: LocationId::parse(id).unwrap(), on_hand, held, available: on_hand - held, committed: 0 }
    }
    fn fixture() -> (Vec<LocationLevel>, HashMap<LocationId, Location>) {
        let locs = [
            location("far", LocationKind::Store, 52.50, true),
            location("near", LocationKind::Store, 52.37, true),
            location("wh", LocationKind::Warehouse, 52.30, false),
            location("empty", LocationKind::Store, 52.36, true),
        ];
        let levels = vec![level("empty", 2, 2), level("far", 3, 0), level("near", 1, 0), level("wh", 50, 5)];
        (levels, locs.into_iter().map(|l| (l.id.clone(), l)).collect())
    }

    #[test]
    fn lists_every_location_with_totals() {
        let (levels, locs) = fixture();
        let s = sku_stock(Sku::parse("A").unwrap(), &levels, &locs, &StockQuery::default());
        assert_eq!(s.locations.len(), 4);
        assert_eq!(s.total, StockTotals { on_hand: 56, held: 7, available: 49, committed: 0 });
    }

    #[test]
    fn near_sorts_by_distance_skipping_empty_and_far() {
        let (levels, locs) = fixture();
        let q = StockQuery { near: Some(Position::new(52.37, 4.9).unwrap()), ..Default::default() };
        let s = sku_stock(Sku::parse("A").unwrap(), &levels, &locs, &q);
        let ids: Vec<_> = s.locations.iter().map(|l| l.location_id.as_str()).collect();
        assert_eq!(ids, ["near", "wh", "far"]);
        assert_eq!(s.locations[0].distance_km, Some(0.0));
        let q = StockQuery { radius: Some(RadiusKm::new(10.0).unwrap()), kind: Some(LocationKind::Store), pickup_only: true, ..q };
        let s = sku_stock(Sku::parse("A").unwrap(), &levels, &locs, &q);
        let ids: Vec<_> = s.locations.iter().map(|l| l.location_id.as_str()).collect();
        assert_eq!(ids, ["near"]);
    }

    #[test]
    fn batches_are_bounded_and_deduplicated() {
        let body = |skus: Vec<String>| serde_json::json!({ "skus": skus });
        let b: BatchLookup = serde_json::from_value(body(vec!["A".into(), "B".into(), "A".into()])).unwrap();
        let (skus, _) = b.into_parts().unwrap();
        assert_eq!(skus.len(), 2);
        let many: BatchLookup = serde_json::from_value(body((0..101).map(|i| format!("S{i}")).collect())).unwrap();
        assert_eq!(many.into_parts().unwrap_err(), InvalidLookup::BatchSize(101));
        let repeated: BatchLookup = serde_json::from_value(body((0..101).map(|i| format!("S{}", i % 2)).collect())).unwrap();
        assert_eq!(repeated.into_parts().unwrap_err(), InvalidLookup::BatchSize(101), "repeats count");
        let none: BatchLookup = serde_json::from_value(body(vec![])).unwrap();
        assert!(none.into_parts().is_err());
        let radius: BatchLookup = serde_json::from_value(serde_json::json!({"skus":["A"],"radius_km":3})).unwrap();
        assert_eq!(radius.into_parts().unwrap_err(), InvalidLookup::RadiusWithoutNear);
    }

    #[test]
    fn sizes_sort_like_a_shelf() {
        let mut sizes = vec!["XL", "42", "S", "38.5", "M", "one size"];
        sizes.sort_by(|a, b| (size_order(a), a).cmp(&(size_order(b), b)));
        assert_eq!(sizes, ["38.5", "42", "S", "M", "XL", "one size"]);
    }
}
