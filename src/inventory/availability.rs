//! Where a SKU (or every variant of a style) can be had: joins the ledger's counts
//! with the locations, filters by kind and pickup, and sorts by distance from a shopper.
//! A lookup reads the SKU's ledger now (strong, the default) or accepts counts up to a
//! stated age (`MaxStaleness`, for product and listing pages); every answer says when
//! its counts were read.

use crate::catalog::Product;
use crate::shared::geo::{round_km, Position, RadiusKm};
use crate::shared::ids::{LocationId, Sku, StyleCode};
use crate::locations::{Location, LocationKind};
use crate::shared::money::Money;
use crate::inventory::ledger::LocationLevel;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How old a lookup's counts may be, written `1s` or `500ms`, at most a minute.
/// Product and listing pages ask for it to be answered from a short-lived edge cache;
/// without it a lookup reads the ledger itself, and checkout always re-checks stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct MaxStaleness {
    millis: u32,
}

impl MaxStaleness {
    pub const LONGEST_MS: u32 = 60_000;
    pub const ONE_SECOND: MaxStaleness = MaxStaleness { millis: 1000 };

    /// Digits without leading zeros (or `0`) then `s` or `ms`, a minute at most.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        const SHAPE: &str = "must be a whole number of seconds or milliseconds, e.g. 1s or 500ms, at most 60s";
        let (digits, unit_ms) = match text.strip_suffix("ms") {
            Some(digits) => (digits, 1),
            None => (text.strip_suffix('s').ok_or(SHAPE)?, 1000),
        };
        let well_formed = !digits.is_empty()
            && digits.len() <= 5
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        let value: u32 = if well_formed { digits.parse().map_err(|_| SHAPE)? } else { return Err(SHAPE) };
        let millis = value.checked_mul(unit_ms).filter(|ms| *ms <= Self::LONGEST_MS).ok_or(SHAPE)?;
        Ok(MaxStaleness { millis })
    }

    pub fn millis(self) -> u32 {
        self.millis
    }
}

impl TryFrom<String> for MaxStaleness {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        MaxStaleness::parse(&text)
    }
}

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
    /// Counts up to this old are good enough (strong when absent).
    #[serde(default)]
    pub max_staleness: Option<MaxStaleness>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidLookup {
    #[error("ask for 1 to {MAX_BATCH} SKUs, got {0}")]
    BatchSize(usize),
    #[error("radius_km needs near")]
    RadiusWithoutNear,
}

impl BatchLookup {
    /// The distinct SKUs in the order first asked, the query to apply to each, and how
    /// fresh their counts must be.
    pub fn into_parts(self) -> Result<(Vec<Sku>, StockQuery, Option<MaxStaleness>), InvalidLookup> {
        let mut skus = self.skus;
        let asked = skus.len();
        if asked == 0 || asked > MAX_BATCH {
            return Err(InvalidLookup::BatchSize(asked));
        }
        let mut seen = std::collections::HashSet::new();
        skus.retain(|s| seen.insert(s.clone()));
        let query = StockQuery::new(self.near, self.radius_km, self.kind, self.pickup)?;
        Ok((skus, query, self.max_staleness))
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
    /// When the counts were read from the SKU's ledger.
    pub read_at: DateTime<Utc>,
}

/// A SKU's ledger view as read at a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelsRead {
    pub levels: Vec<LocationLevel>,
    pub read_at: DateTime<Utc>,
}

/// Joins one SKU's ledger view with the locations and applies the query.
pub fn sku_stock(sku: Sku, read: &LevelsRead, locations: &HashMap<LocationId, Location>, query: &StockQuery) -> SkuStock {
    let levels = &read.levels;
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
    SkuStock { sku, locations: listed, total, read_at: read.read_at }
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
    /// When the variant's counts were read from its ledger.
    pub read_at: DateTime<Utc>,
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
                read_at: stock.read_at,
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
    fn fixture() -> (LevelsRead, HashMap<LocationId, Location>) {
        let locs = [
            location("far", LocationKind::Store, 52.50, true),
            location("near", LocationKind::Store, 52.37, true),
            location("wh", LocationKind::Warehouse, 52.30, false),
            location("empty", LocationKind::Store, 52.36, true),
        ];
        let levels = vec![level("empty", 2, 2), level("far", 3, 0), level("near", 1, 0), level("wh", 50, 5)];
        let levels = LevelsRead { levels, read_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap() };
        (levels, locs.into_iter().map(|l| (l.id.clone(), l)).collect())
    }

    #[test]
    fn lists_every_location_with_totals() {
        let (levels, locs) = fixture();
        let s = sku_stock(Sku::parse("A").unwrap(), &levels, &locs, &StockQuery::default());
        assert_eq!(s.locations.len(), 4);
        assert_eq!(s.total, StockTotals { on_hand: 56, held: 7, available: 49, committed: 0 });
        assert_eq!(s.read_at, levels.read_at, "the answer says when its counts were read");
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
        let (skus, _, freshness) = b.into_parts().unwrap();
        assert_eq!(freshness, None, "strong unless asked");
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
    fn staleness_is_seconds_or_milliseconds_up_to_a_minute() {
        assert_eq!(MaxStaleness::parse("1s").unwrap().millis(), 1000);
        assert_eq!(MaxStaleness::parse("250ms").unwrap().millis(), 250);
        assert_eq!(MaxStaleness::parse("0s").unwrap().millis(), 0);
        assert_eq!(MaxStaleness::parse("60s").unwrap().millis(), 60_000);
        assert_eq!(MaxStaleness::parse("60000ms").unwrap().millis(), 60_000);
        for bad in ["", "s", "ms", "1", "61s", "60001ms", "01s", "1.5s", "-1s", "1 s", "1m", "99999999999s", "1S"] {
            assert!(MaxStaleness::parse(bad).is_err(), "{bad:?} must be refused");
        }
        let body: BatchLookup = serde_json::from_value(serde_json::json!({"skus":["A"],"max_staleness":"2s"})).unwrap();
        assert_eq!(body.into_parts().unwrap().2, Some(MaxStaleness::parse("2s").unwrap()));
        assert!(serde_json::from_value::<BatchLookup>(serde_json::json!({"skus":["A"],"max_staleness":"2 s"})).is_err());
    }

    #[test]
    fn sizes_sort_like_a_shelf() {
        let mut sizes = vec!["XL", "42", "S", "38.5", "M", "one size"];
        sizes.sort_by(|a, b| (size_order(a), a).cmp(&(size_order(b), b)));
        assert_eq!(sizes, ["38.5", "42", "S", "M", "XL", "one size"]);
    }
}
