//! Where each order line's units come from. A pickup or an in-store sale takes every
//! line from its one location; a delivery ships from the nearest location that can
//! ship every line in full, or else is split across as few shipping locations as a
//! greedy choice finds (most units covered first, nearer first on ties). All or
//! nothing: when any line is short, every short line is named with what is available where.

use crate::sales::fulfilment::FulfilmentRequest;
use crate::shared::geo::Position;
use crate::shared::ids::{LocationId, Sku};
use crate::locations::{Location, LocationKind};
use crate::shared::quantity::{PositiveQuantity, MAX_UNITS};
use crate::inventory::ledger::Allocation;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Units available now, per SKU and location (what the stock ledgers report).
pub type Availability = HashMap<Sku, HashMap<LocationId, u32>>;

/// Units of one SKU that one location fulfils.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocatedLine {
    pub sku: Sku,
    pub quantity: PositiveQuantity,
    pub location_id: LocationId,
}

/// What one location has available of a short line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationAvailable {
    pub location_id: LocationId,
    pub available: u32,
}

/// A line the order cannot have in full, with what the eligible locations have:
/// the pickup or POS store itself (also when it has none), or for a delivery every
/// shipping location that has some, nearest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShortLine {
    pub sku: Sku,
    pub requested: u32,
    pub available_total: u32,
    pub available_at: Vec<LocationAvailable>,
}

impl ShortLine {
    /// The short line a refused hold describes (stock moved between lookup and hold).
    pub fn from_refused_hold(sku: Sku, short: &[crate::inventory::ledger::Short]) -> Self {
        ShortLine {
            sku,
            requested: short.iter().map(|s| s.requested).sum(),
            available_total: short.iter().map(|s| s.available).sum(),
            available_at: short
                .iter()
                .map(|s| LocationAvailable { location_id: s.location_id.clone(), available: s.available })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("not enough stock for {}", describe_short(short))]
    Short { short: Vec<ShortLine> },
    #[error("location {location_id} does not offer pickup")]
    PickupNotOffered { location_id: LocationId },
    #[error("location {location_id} is a {}, not a store: in-store sales happen at stores", kind.as_str())]
    NotAStore { location_id: LocationId, kind: LocationKind },
    #[error("no location {location_id:?}")]
    UnknownLocation { location_id: LocationId },
}

fn describe_short(short: &[ShortLine]) -> String {
    short
        .iter()
        .map(|s| format!("{} (requested {}, available {})", s.sku, s.requested, s.available_total))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Chooses where every line's units come from for `fulfilment`. Lines naming the same
/// SKU twice are added up. The result lists lines by location (nearest first for a
/// delivery), and within a location in the order the lines were given.
pub fn allocate(
    lines: &[(Sku, PositiveQuantity)],
    availability: &Availability,
    candidates: &[Location],
    fulfilment: &FulfilmentRequest,
) -> Result<Vec<AllocatedLine>, AllocationError> {
    let demand = demand_of(lines);
    let stock = Stock(availability);
    match fulfilment {
        FulfilmentRequest::Pickup { location_id } => {
            let location = find(candidates, location_id)?;
            if !location.offers_pickup {
                return Err(AllocationError::PickupNotOffered { location_id: location_id.clone() });
            }
            from_one_location(&demand, &stock, location_id)
        }
        FulfilmentRequest::InStore { location_id } => {
            let location = find(candidates, location_id)?;
            if location.kind != LocationKind::Store {
                return Err(AllocationError::NotAStore { location_id: location_id.clone(), kind: location.kind });
            }
            from_one_location(&demand, &stock, location_id)
        }
        FulfilmentRequest::Delivery { position, .. } => for_delivery(&demand, &stock, candidates, position),
    }
}

/// The distance the delivery charge is banded by: the longest leg, from the farthest
/// location that ships part of the order to the destination. `None` when nothing ships
/// (or a location is not among `candidates`).
pub fn delivery_distance_km(allocated: &[AllocatedLine], candidates: &[Location], destination: &Position) -> Option<f64> {
    let mut longest: Option<f64> = None;
    for line in allocated {
        let location = candidates.iter().find(|l| l.id == line.location_id)?;
        let km = location.position().distance_km(destination);
        longest = Some(longest.map_or(km, |d| d.max(km)));
    }
    longest
}

/// The allocation per SKU, as the SKU's stock ledger holds and commits it.
pub fn per_sku(allocated: &[AllocatedLine]) -> BTreeMap<Sku, Vec<Allocation>> {
    let mut by_sku: BTreeMap<Sku, Vec<Allocation>> = BTreeMap::new();
    for line in allocated {
        by_sku
            .entry(line.sku.clone())
            .or_default()
            .push(Allocation { location_id: line.location_id.clone(), quantity: line.quantity });
    }
    by_sku
}

/// Units wanted of one SKU, all lines for it added up.
struct Demand {
    sku: Sku,
    units: u32,
}

fn demand_of(lines: &[(Sku, PositiveQuantity)]) -> Vec<Demand> {
    let mut demand: Vec<Demand> = Vec::new();
    for (sku, quantity) in lines {
        match demand.iter_mut().find(|d| &d.sku == sku) {
            Some(d) => d.units = d.units.saturating_add(quantity.get()),
            None => demand.push(Demand { sku: sku.clone(), units: quantity.get() }),
        }
    }
    demand
}

/// Read access to the availability, each count capped at what one location may hold.
struct Stock<'a>(&'a Availability);

impl Stock<'_> {
    fn at(&self, sku: &Sku, location: &LocationId) -> u32 {
        self.0.get(sku).and_then(|per| per.get(location)).copied().unwrap_or(0).min(MAX_UNITS)
    }
}

fn find<'a>(candidates: &'a [Location], id: &LocationId) -> Result<&'a Location, AllocationError> {
    candidates.iter().find(|l| &l.id == id).ok_or_else(|| AllocationError::UnknownLocation { location_id: id.clone() })
}

fn units(n: u32) -> PositiveQuantity {
    PositiveQuantity::new(n as i64).expect("allocated units are positive and at most what one location holds")
}

fn from_one_location(demand: &[Demand], stock: &Stock, location: &LocationId) -> Result<Vec<AllocatedLine>, AllocationError> {
    let short: Vec<ShortLine> = demand
        .iter()
        .filter_map(|d| {
            let available = stock.at(&d.sku, location);
            (available < d.units).then(|| ShortLine {
                sku: d.sku.clone(),
                requested: d.units,
                available_total: available,
                available_at: vec![LocationAvailable { location_id: location.clone(), available }],
            })
        })
        .collect();
    if !short.is_empty() {
        return Err(AllocationError::Short { short });
    }
    Ok(demand
        .iter()
        .map(|d| AllocatedLine { sku: d.sku.clone(), quantity: units(d.units), location_id: location.clone() })
        .collect())
}

/// The locations that ship orders, each once, nearest to `destination` first (ties by id).
fn shippers_by_distance<'a>(candidates: &'a [Location], destination: &Position) -> Vec<&'a Location> {
    let mut seen = HashSet::new();
    let mut shippers: Vec<(&Location, f64)> = candidates
        .iter()
        .filter(|l| l.ships_orders && seen.insert(&l.id))
        .map(|l| (l, l.position().distance_km(destination)))
        .collect();
    shippers.sort_by(|(a, da), (b, db)| da.total_cmp(db).then_with(|| a.id.cmp(&b.id)));
    shippers.into_iter().map(|(l, _)| l).collect()
}

fn for_delivery(
    demand: &[Demand],
    stock: &Stock,
    candidates: &[Location],
    destination: &Position,
) -> Result<Vec<AllocatedLine>, AllocationError> {
    let shippers = shippers_by_distance(candidates, destination);
    let short = delivery_shortages(demand, stock, &shippers);
    if !short.is_empty() {
        return Err(AllocationError::Short { short });
    }
    let ships_everything = |l: &&&Location| demand.iter().all(|d| stock.at(&d.sku, &l.id) >= d.units);
    if let Some(nearest) = shippers.iter().find(ships_everything) {
        return from_one_location(demand, stock, &nearest.id);
    }
    Ok(split_across(demand, stock, &shippers))
}

fn delivery_shortages(demand: &[Demand], stock: &Stock, shippers: &[&Location]) -> Vec<ShortLine> {
    demand
        .iter()
        .filter_map(|d| {
            let available_at: Vec<LocationAvailable> = shippers
                .iter()
                .map(|l| LocationAvailable { location_id: l.id.clone(), available: stock.at(&d.sku, &l.id) })
                .filter(|a| a.available > 0)
                .collect();
            let total = available_at.iter().fold(0u32, |sum, a| sum.saturating_add(a.available));
            (total < d.units).then(|| ShortLine {
                sku: d.sku.clone(),
                requested: d.units,
                available_total: total,
                available_at,
            })
        })
        .collect()
}

/// Splits the order when no single location can ship it: repeatedly takes the shipping
/// location that covers the most units still missing (the nearer one on a tie) and
/// takes what it has of each missing line. Every line must be coverable (checked before).
fn split_across(demand: &[Demand], stock: &Stock, shippers: &[&Location]) -> Vec<AllocatedLine> {
    let mut missing: Vec<u32> = demand.iter().map(|d| d.units).collect();
    let mut picked: Vec<usize> = Vec::new();
    let mut taken: Vec<(usize, usize, u32)> = Vec::new(); // (shipper rank, line index, units)
    while missing.iter().any(|&m| m > 0) {
        let covers = |rank: usize| -> u64 {
            demand.iter().zip(&missing).map(|(d, &m)| u64::from(m.min(stock.at(&d.sku, &shippers[rank].id)))).sum()
        };
        let best = (0..shippers.len())
            .filter(|rank| !picked.contains(rank))
            .map(|rank| (rank, covers(rank)))
            .fold(None, |best: Option<(usize, u64)>, (rank, units)| match best {
                Some((_, most)) if most >= units => best,
                _ => Some((rank, units)),
            });
        // Every line's total was checked to be enough, so some location always covers more.
        let Some((rank, _)) = best.filter(|&(_, covered)| covered > 0) else { break };
        picked.push(rank);
        for (line, d) in demand.iter().enumerate() {
            let take = missing[line].min(stock.at(&d.sku, &shippers[rank].id));
            if take > 0 {
                missing[line] -= take;
                taken.push((rank, line, take));
            }
        }
    }
    taken.sort_unstable(); // by shipper rank (nearest first), then line order
    taken
        .into_iter()
        .map(|(rank, line, n)| AllocatedLine {
            sku: demand[line].sku.clone(),
            quantity: units(n),
            location_id: shippers[rank].id.clone(),
        })
        .collect()
}

impl AllocationError {
    /// The short lines, when that is the reason.
    pub fn short_lines(&self) -> &[ShortLine] {
        match self {
            AllocationError::Short { short } => short,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locations::Address;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }
    fn loc(s: &str) -> LocationId {
        LocationId::parse(s).unwrap()
    }
    fn q(n: i64) -> PositiveQuantity {
        PositiveQuantity::new(n).unwrap()
    }
    fn address() -> Address {
        Address { line1: "Damrak 1".into(), line2: None, city: "Amsterdam".into(), postal_code: "1012 LG".into(), country: "NL".into() }
    }
    /// A location `km_east` kilometres (roughly) east of the shopper on the equator.
    fn place(id: &str, kind: LocationKind, km_east: f64, ships: bool, pickup: bool) -> Location {
        Location {
            id: loc(id),
            name: id.to_uppercase(),
            kind,
            address: address(),
            latitude: 0.0,
            longitude: km_east / 111.195,
            ships_orders: ships,
            offers_pickup: pickup,
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }
    fn shopper() -> FulfilmentRequest {
        FulfilmentRequest::Delivery { address: address(), position: Position::new(0.0, 0.0).unwrap() }
    }
    fn stock(rows: &[(&str, &str, u32)]) -> Availability {
        let mut a = Availability::new();
        for (s, l, n) in rows {
            a.entry(sku(s)).or_default().insert(loc(l), *n);
        }
        a
    }
    fn lines(rows: &[(&str, i64)]) -> Vec<(Sku, PositiveQuantity)> {
        rows.iter().map(|(s, n)| (sku(s), q(*n))).collect()
    }
    fn got(allocated: &[AllocatedLine]) -> Vec<(String, u32, String)> {
        allocated.iter().map(|a| (a.sku.to_string(), a.quantity.get(), a.location_id.to_string())).collect()
    }
    fn row(s: &str, n: u32, l: &str) -> (String, u32, String) {
        (s.to_owned(), n, l.to_owned())
    }
    fn network() -> Vec<Location> {
        vec![
            place("far-wh", LocationKind::Warehouse, 50.0, true, false),
            place("near-store", LocationKind::Store, 2.0, true, true),
            place("mid-store", LocationKind::Store, 10.0, true, true),
            place("no-ship", LocationKind::Store, 1.0, false, true),
            place("pickup-pt", LocationKind::PickupPoint, 3.0, false, true),
        ]
    }

    #[test]
    fn pickup_takes_every_line_from_the_chosen_store() {
        let avail = stock(&[("A", "mid-store", 2), ("B", "mid-store", 1), ("A", "near-store", 9)]);
        let pickup = FulfilmentRequest::Pickup { location_id: loc("mid-store") };
        let result = allocate(&lines(&[("A", 2), ("B", 1)]), &avail, &network(), &pickup).unwrap();
        assert_eq!(got(&result), vec![row("A", 2, "mid-store"), row("B", 1, "mid-store")]);
    }

    #[test]
    fn pickup_short_names_the_store_even_when_others_have_it() {
        let avail = stock(&[("A", "mid-store", 1), ("A", "near-store", 9)]);
        let pickup = FulfilmentRequest::Pickup { location_id: loc("mid-store") };
        let err = allocate(&lines(&[("A", 2), ("B", 1)]), &avail, &network(), &pickup).unwrap_err();
        let short = err.short_lines();
        assert_eq!(short.len(), 2);
        assert_eq!((short[0].requested, short[0].available_total), (2, 1));
        assert_eq!(short[0].available_at, vec![LocationAvailable { location_id: loc("mid-store"), available: 1 }]);
        assert_eq!((short[1].sku.as_str(), short[1].available_total), ("B", 0));
        assert_eq!(short[1].available_at[0].available, 0);
    }

    #[test]
    fn pickup_needs_a_known_location_that_offers_it() {
        let avail = stock(&[("A", "far-wh", 5)]);
        let one = lines(&[("A", 1)]);
        let at = |id: &str| FulfilmentRequest::Pickup { location_id: loc(id) };
        assert_eq!(
            allocate(&one, &avail, &network(), &at("far-wh")),
            Err(AllocationError::PickupNotOffered { location_id: loc("far-wh") })
        );
        assert_eq!(
            allocate(&one, &avail, &network(), &at("nowhere")),
            Err(AllocationError::UnknownLocation { location_id: loc("nowhere") })
        );
        let pickup_point = allocate(&one, &stock(&[("A", "pickup-pt", 1)]), &network(), &at("pickup-pt")).unwrap();
        assert_eq!(got(&pickup_point), vec![row("A", 1, "pickup-pt")]);
    }

    #[test]
    fn in_store_sells_from_the_store_only() {
        let avail = stock(&[("A", "no-ship", 3), ("A", "near-store", 9)]);
        let pos = |id: &str| FulfilmentRequest::InStore { location_id: loc(id) };
        let result = allocate(&lines(&[("A", 3)]), &avail, &network(), &pos("no-ship")).unwrap();
        assert_eq!(got(&result), vec![row("A", 3, "no-ship")]);
        assert!(matches!(allocate(&lines(&[("A", 4)]), &avail, &network(), &pos("no-ship")), Err(AllocationError::Short { .. })));
        assert_eq!(
            allocate(&lines(&[("A", 1)]), &avail, &network(), &pos("far-wh")),
            Err(AllocationError::NotAStore { location_id: loc("far-wh"), kind: LocationKind::Warehouse })
        );
        assert!(matches!(
            allocate(&lines(&[("A", 1)]), &avail, &network(), &pos("gone")),
            Err(AllocationError::UnknownLocation { .. })
        ));
    }

    #[test]
    fn delivery_picks_the_nearest_location_that_ships_everything() {
        // no-ship is nearest and has everything but does not ship; near-store lacks B.
        let avail = stock(&[
            ("A", "no-ship", 5),
            ("B", "no-ship", 5),
            ("A", "near-store", 5),
            ("A", "mid-store", 2),
            ("B", "mid-store", 1),
            ("A", "far-wh", 9),
            ("B", "far-wh", 9),
        ]);
        let result = allocate(&lines(&[("A", 2), ("B", 1)]), &avail, &network(), &shopper()).unwrap();
        assert_eq!(got(&result), vec![row("A", 2, "mid-store"), row("B", 1, "mid-store")]);
    }

    #[test]
    fn delivery_splits_across_the_fewest_locations_nearest_first() {
        // No one ships all. far-wh covers 3+3 = 6 units; near-store covers 3+0; mid-store 0+3.
        // Greedy takes far-wh for A and B, which covers A 3/4, B 3/3; then near-store for A's last one.
        let avail = stock(&[("A", "near-store", 3), ("B", "mid-store", 3), ("A", "far-wh", 3), ("B", "far-wh", 3)]);
        let result = allocate(&lines(&[("A", 4), ("B", 3)]), &avail, &network(), &shopper()).unwrap();
        assert_eq!(got(&result), vec![row("A", 1, "near-store"), row("A", 3, "far-wh"), row("B", 3, "far-wh")]);
    }

    #[test]
    fn delivery_split_prefers_the_nearer_location_on_a_tie() {
        let avail = stock(&[("A", "far-wh", 2), ("A", "near-store", 2), ("B", "mid-store", 1)]);
        let result = allocate(&lines(&[("A", 2), ("B", 1)]), &avail, &network(), &shopper()).unwrap();
        assert_eq!(got(&result), vec![row("A", 2, "near-store"), row("B", 1, "mid-store")]);
    }

    #[test]
    fn delivery_split_is_deterministic_whatever_the_input_order() {
        let avail = stock(&[("A", "far-wh", 1), ("A", "near-store", 1), ("A", "mid-store", 1), ("B", "mid-store", 1)]);
        let mut locations = network();
        let first = allocate(&lines(&[("A", 3), ("B", 1)]), &avail, &locations, &shopper()).unwrap();
        locations.reverse();
        let again = allocate(&lines(&[("A", 3), ("B", 1)]), &avail, &locations, &shopper()).unwrap();
        assert_eq!(first, again);
        assert_eq!(got(&first), vec![row("A", 1, "near-store"), row("A", 1, "mid-store"), row("B", 1, "mid-store"), row("A", 1, "far-wh")]);
    }

    #[test]
    fn equally_near_locations_are_ordered_by_id() {
        let locations = vec![place("b-store", LocationKind::Store, 5.0, true, true), place("a-store", LocationKind::Store, 5.0, true, true)];
        let avail = stock(&[("A", "a-store", 1), ("A", "b-store", 1)]);
        let result = allocate(&lines(&[("A", 1)]), &avail, &locations, &shopper()).unwrap();
        assert_eq!(got(&result), vec![row("A", 1, "a-store")]);
    }

    #[test]
    fn delivery_short_names_every_short_line_and_where_stock_is() {
        let avail = stock(&[("A", "far-wh", 1), ("A", "near-store", 1), ("A", "no-ship", 7), ("B", "mid-store", 5), ("C", "mid-store", 1)]);
        let err = allocate(&lines(&[("A", 3), ("B", 2), ("C", 4)]), &avail, &network(), &shopper()).unwrap_err();
        let short = err.short_lines().to_vec();
        assert_eq!(short.len(), 2, "{short:?}");
        assert_eq!(short[0].sku.as_str(), "A");
        assert_eq!((short[0].requested, short[0].available_total), (3, 2));
        let where_a: Vec<(&str, u32)> = short[0].available_at.iter().map(|a| (a.location_id.as_str(), a.available)).collect();
        assert_eq!(where_a, vec![("near-store", 1), ("far-wh", 1)], "non-shipping stock does not count");
        assert_eq!((short[1].sku.as_str(), short[1].requested, short[1].available_total), ("C", 4, 1));
        assert!(err.to_string().contains("A (requested 3, available 2)"), "{err}");
    }

    #[test]
    fn nothing_ships_means_everything_is_short() {
        let locations = vec![place("no-ship", LocationKind::Store, 1.0, false, true)];
        let err = allocate(&lines(&[("A", 1)]), &stock(&[("A", "no-ship", 5)]), &locations, &shopper()).unwrap_err();
        assert_eq!(err.short_lines()[0].available_at, vec![]);
    }

    #[test]
    fn repeated_skus_are_added_up() {
        let avail = stock(&[("A", "near-store", 2), ("A", "mid-store", 3)]);
        let result = allocate(&lines(&[("A", 2), ("A", 1)]), &avail, &network(), &shopper()).unwrap();
        assert_eq!(got(&result), vec![row("A", 3, "mid-store")]);
        let pickup = FulfilmentRequest::Pickup { location_id: loc("near-store") };
        let err = allocate(&lines(&[("A", 2), ("A", 1)]), &avail, &network(), &pickup).unwrap_err();
        assert_eq!(err.short_lines()[0].requested, 3);
    }

    #[test]
    fn absurd_counts_are_capped_at_what_a_location_can_hold() {
        let avail = stock(&[("A", "near-store", u32::MAX)]);
        let err = allocate(&lines(&[("A", 1_000_000), ("A", 1)]), &avail, &network(), &shopper()).unwrap_err();
        assert_eq!(err.short_lines()[0].available_total, MAX_UNITS);
    }

    #[test]
    fn charges_by_the_longest_leg_and_groups_per_sku() {
        let avail = stock(&[("A", "near-store", 1), ("B", "far-wh", 1)]);
        let result = allocate(&lines(&[("A", 1), ("B", 1)]), &avail, &network(), &shopper()).unwrap();
        let km = delivery_distance_km(&result, &network(), &Position::new(0.0, 0.0).unwrap()).unwrap();
        assert!((km - 50.0).abs() < 0.5, "{km}");
        assert_eq!(delivery_distance_km(&[], &network(), &Position::new(0.0, 0.0).unwrap()), None);
        let grouped = per_sku(&result);
        assert_eq!(grouped[&sku("B")], vec![Allocation { location_id: loc("far-wh"), quantity: q(1) }]);
    }
}
