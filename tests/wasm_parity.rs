//! Parity tests: the domain must give the same answers compiled to wasm32 (as it runs
//! in workerd) as natively. Run natively by `cargo test` and under Node by
//! `wasm-bindgen-test-runner` (see scripts/test.sh). They exercise what differs across
//! targets: 32-bit usize, float formatting and trigonometry, decimal arithmetic, large
//! JSON integers and time arithmetic.

// Tests may unwrap: a panic there is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use omniedge::inventory::availability::{sku_stock, LevelsRead, StockQuery};
use omniedge::shared::geo::Position;
use omniedge::shared::ids::{LocationId, Sku};
use omniedge::locations::{Address, Location, LocationKind};
use omniedge::shared::money::{parse_amount, Money};
use omniedge::shared::quantity::{PositiveQuantity, Quantity, MAX_UNITS};
use omniedge::inventory::ledger::{Allocation, HoldRef, StockChange, StockLedger};
use omniedge::inventory::rows::{in_memory, MemoryRows};
use std::collections::HashMap;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test;

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_900_000_000, 0).unwrap() + Duration::minutes(minutes)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn distances_and_rounding_match_native() {
    let ams = Position::new(52.3702, 4.8930).unwrap();
    let pijp = Position::new(52.3547, 4.8936).unwrap();
    let d = ams.distance_km(&pijp);
    assert_eq!(omniedge::shared::geo::round_km(d), 1.724);
    assert_eq!(serde_json::to_string(&omniedge::shared::geo::round_km(d)).unwrap(), "1.724");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn decimal_money_is_exact() {
    let price = parse_amount("19.99").unwrap();
    let total = price * rust_decimal::Decimal::from(3);
    assert_eq!(total.to_string(), "59.97");
    let m: Money = serde_json::from_str(r#"{"amount":"0.10","currency":"EUR"}"#).unwrap();
    assert_eq!((m.amount + parse_amount("0.20").unwrap()).to_string(), "0.30");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn large_integers_are_refused_not_truncated() {
    // 2^53 + 1 would lose a digit in JS; serde_json sees it exactly and refuses it.
    assert!(serde_json::from_str::<Quantity>("9007199254740993").is_err());
    assert_eq!(serde_json::from_str::<Quantity>(&MAX_UNITS.to_string()).unwrap().get(), MAX_UNITS);
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn request_bodies_read_whole_numbers_alike() {
    use omniedge::shared::json::from_slice;
    assert_eq!(from_slice::<Quantity>(b"1000000.0").unwrap().get(), MAX_UNITS);
    assert_eq!(from_slice::<u64>(b"18446744073709551615").unwrap(), u64::MAX);
    assert_eq!(from_slice::<i64>(b"-9.223372036854775808e18").unwrap(), i64::MIN);
    assert!(from_slice::<u64>(b"1.8446744073709552e19").is_err(), "2^64 is no u64");
    assert!(from_slice::<Quantity>(b"9007199254740993.0").is_err());
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn ledger_and_lookup_behave_the_same() {
    let s1 = LocationId::parse("s1").unwrap();
    let mut ledger = StockLedger::<MemoryRows>::default();
    in_memory(ledger.adjust(&s1, StockChange::Set(Quantity::new(4).unwrap()), at(0))).unwrap();
    let hold = [Allocation { location_id: s1.clone(), quantity: PositiveQuantity::new(3).unwrap() }];
    in_memory(ledger.hold(&HoldRef("cart".into()), &hold, at(0), at(15))).unwrap();
    assert_eq!(in_memory(ledger.available_at(&s1, at(1))), 1);
    assert_eq!(in_memory(ledger.available_at(&s1, at(15))), 4, "a hold lapses at its expiry");

    let location = Location {
        id: s1.clone(),
        name: "Store".into(),
        kind: LocationKind::Store,
        address: Address { line1: "a".into(), line2: None, city: "b".into(), postal_code: "c".into(), country: "NL".into() },
        latitude: 52.3702,
        longitude: 4.8930,
        ships_orders: true,
        offers_pickup: true,
        updated_at: "t".into(),
    };
    let locations = HashMap::from([(s1.clone(), location)]);
    let query = StockQuery { near: Some(Position::new(52.3547, 4.8936).unwrap()), ..Default::default() };
    let read = LevelsRead { levels: in_memory(ledger.view(at(1))), read_at: at(1) };
    let stock = sku_stock(Sku::parse("A").unwrap(), &read, &locations, &query);
    let json = serde_json::to_value(&stock).unwrap();
    assert_eq!(json["locations"][0]["available"], 1);
    assert_eq!(json["locations"][0]["distance_km"], 1.724);
    assert_eq!(json["total"]["held"], 3);
    assert_eq!(json["read_at"], serde_json::to_value(at(1)).unwrap());
}
