use super::*;
use crate::returns::policy::ReturnPolicy;
use chrono::TimeZone;
use rust_decimal::Decimal;

fn eur(amount: &str) -> serde_json::Value {
    serde_json::json!({ "amount": amount, "currency": "EUR" })
}

fn line(sku: &str, quantity: u32, unit: &str, total: &str) -> serde_json::Value {
    serde_json::json!({ "sku": sku, "name": sku, "quantity": quantity, "unit_price": eur(unit), "line_total": eur(total) })
}

fn day(n: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, n, 12, 0, 0).unwrap()
}

/// A web order of three lines (89.95 + 2 × 14.95 + 3 × 9.99 = 149.82), 10.00 off and
/// 4.95 delivery: 144.77 paid, delivered on day 3.
fn order(status: &str) -> Order {
    serde_json::from_value(serde_json::json!({
        "id": "o1", "channel": "web", "status": status, "contact": {},
        "fulfilment": { "type": "pickup", "location_id": "s1" },
        "payment": { "method": "prepaid", "reference": "psp_1" },
        "lines": [line("SHOE", 1, "89.95", "89.95"), line("SOCK", 2, "14.95", "29.90"), line("CAP", 3, "9.99", "29.97")],
        "allocations": [], "placed_at": day(1),
        "totals": { "subtotal": eur("149.82"), "discount": eur("10.00"), "delivery_charge": eur("4.95"), "grand_total": eur("144.77") },
        "history": [{ "status": "placed", "at": day(1), "by": "k" }, { "status": status, "at": day(3), "by": "k" }]
    }))
    .unwrap()
}

fn ask(lines: &[(&str, u32, ReturnReason)]) -> ReturnRequest {
    ReturnRequest {
        order_id: OrderId::parse("o1").unwrap(),
        location_id: LocationId::parse("s2").unwrap(),
        lines: lines
            .iter()
            .map(|(sku, q, reason)| LineRequest { sku: Sku::parse(sku).unwrap(), quantity: PositiveQuantity::new(i64::from(*q)).unwrap(), reason: reason.clone(), replacement_sku: None })
            .collect(),
        received: None,
    }
}

fn open(order: &Order, earlier: &[Return], request: ReturnRequest, now: DateTime<Utc>) -> Result<Return, ReturnError> {
    let id = ReturnId::parse(&format!("r{}", earlier.len() + 1)).unwrap();
    Return::open(request, Opening { id, order, earlier, policy: &ReturnPolicy::default(), channel: Channel::CallCentre, by: "key_cc", now })
}

fn amount(m: &Money) -> Decimal {
    m.amount
}

#[test]
fn two_partial_returns_refund_exactly_what_was_paid_and_a_third_is_refused() {
    let order = order("delivered");
    let first = open(&order, &[], ask(&[("SHOE", 1, ReturnReason::ChangedMind), ("CAP", 1, ReturnReason::WrongSize)]), day(5)).unwrap();
    assert_eq!(amount(&first.refund.delivery), Decimal::ZERO, "not the whole order, nothing defective");
    let second = open(&order, std::slice::from_ref(&first), ask(&[("SOCK", 2, ReturnReason::ChangedMind), ("CAP", 2, ReturnReason::ChangedMind)]), day(6)).unwrap();
    assert_eq!(amount(&second.refund.delivery).to_string(), "4.95", "the whole order is back now");
    assert_eq!(amount(&first.refund.total) + amount(&second.refund.total), amount(&order.totals.grand_total));
    for r in [&first, &second] {
        assert_eq!(r.lines.iter().map(|l| l.refund.amount).sum::<Decimal>() + r.refund.delivery.amount, r.refund.total.amount);
    }
    let third = open(&order, &[first, second], ask(&[("CAP", 1, ReturnReason::ChangedMind)]), day(7));
    assert_eq!(third, Err(ReturnError::OverReturn { sku: Sku::parse("CAP").unwrap(), requested: 1, returnable: 0 }));
}

#[test]
fn the_discount_is_spread_in_proportion() {
    let first = open(&order("delivered"), &[], ask(&[("SHOE", 1, ReturnReason::ChangedMind)]), day(5)).unwrap();
    // 89.95 less 89.95 / 149.82 of 10.00 (6.0039…): 83.95 after the remainders are handed out
    assert_eq!(first.refund.total.amount.to_string(), "83.95");
}

#[test]
fn a_defective_line_refunds_the_delivery_charge_once() {
    let order = order("delivered");
    let first = open(&order, &[], ask(&[("CAP", 1, ReturnReason::Defective)]), day(5)).unwrap();
    assert_eq!(first.refund.delivery.amount.to_string(), "4.95");
    let rest = ask(&[("SHOE", 1, ReturnReason::ChangedMind), ("SOCK", 2, ReturnReason::ChangedMind), ("CAP", 2, ReturnReason::ChangedMind)]);
    let second = open(&order, std::slice::from_ref(&first), rest, day(6)).unwrap();
    assert_eq!(second.refund.delivery.amount, Decimal::ZERO);
    assert_eq!(first.refund.total.amount + second.refund.total.amount, order.totals.grand_total.amount);
}

#[test]
fn eligibility_says_exactly_why_not() {
    let sku = |s: &str| Sku::parse(s).unwrap();
    assert_eq!(open(&order("cancelled"), &[], ask(&[("SHOE", 1, ReturnReason::Defective)]), day(5)), Err(ReturnError::OrderCancelled));
    assert_eq!(
        open(&order("ready_for_pickup"), &[], ask(&[("SHOE", 1, ReturnReason::Defective)]), day(5)),
        Err(ReturnError::NotHandedOver { status: OrderStatus::ReadyForPickup })
    );
    let delivered = order("delivered");
    assert_eq!(open(&delivered, &[], ask(&[("HAT", 1, ReturnReason::Defective)]), day(5)), Err(ReturnError::UnknownLine { sku: sku("HAT") }));
    assert_eq!(
        open(&delivered, &[], ask(&[("SOCK", 3, ReturnReason::WrongSize)]), day(5)),
        Err(ReturnError::OverReturn { sku: sku("SOCK"), requested: 3, returnable: 2 })
    );
    assert_eq!(
        open(&delivered, &[], ask(&[("SOCK", 1, ReturnReason::WrongSize), ("SOCK", 1, ReturnReason::Defective)]), day(5)),
        Err(ReturnError::RepeatedLine { sku: sku("SOCK") })
    );
    assert_eq!(open(&delivered, &[], ask(&[]), day(5)), Err(ReturnError::NoLines));
    let late = day(3) + Duration::days(15);
    assert_eq!(
        open(&delivered, &[], ask(&[("SOCK", 1, ReturnReason::ChangedMind)]), late),
        Err(ReturnError::WindowClosed { sku: sku("SOCK"), days: 14, closed_at: day(17) })
    );
    assert!(open(&delivered, &[], ask(&[("SOCK", 1, ReturnReason::Defective)]), late).is_ok(), "defective goods keep a longer window");
}

#[test]
fn rejected_and_cancelled_returns_free_their_units() {
    let order = order("delivered");
    let mut first = open(&order, &[], ask(&[("SOCK", 2, ReturnReason::WrongSize)]), day(5)).unwrap();
    first.cancel("key_web", day(5)).unwrap();
    let second = open(&order, std::slice::from_ref(&first), ask(&[("SOCK", 2, ReturnReason::WrongSize)]), day(6)).unwrap();
    assert_eq!(second.refund.total.amount, first.refund.total.amount, "the same units' shares again");
    assert_eq!(first.cancel("key_web", day(6)), Err(ReturnError::InvalidTransition { status: ReturnStatus::Cancelled, action: "cancelled" }));
}

#[test]
fn receiving_records_conditions_and_restocks_only_resellable_units() {
    let order = order("collected");
    let mut r = open(&order, &[], ask(&[("SHOE", 1, ReturnReason::Defective), ("SOCK", 2, ReturnReason::WrongSize)]), day(5)).unwrap();
    let (shoe, sock) = (Sku::parse("SHOE").unwrap(), Sku::parse("SOCK").unwrap());
    let at = LocationId::parse("s9").unwrap();
    assert_eq!(r.receive(at.clone(), &[(shoe.clone(), Condition::Damaged)], "key_s9", day(6)), Err(ReturnError::ReceiptMismatch { sku: sock.clone() }));
    let twice = [(shoe.clone(), Condition::Damaged), (shoe.clone(), Condition::Resellable)];
    assert_eq!(r.receive(at.clone(), &twice, "key_s9", day(6)), Err(ReturnError::ReceiptMismatch { sku: shoe.clone() }));
    assert_eq!(r.state, ReturnState::Requested, "a refused receipt changes nothing");
    r.receive(at.clone(), &[(sock.clone(), Condition::Resellable), (shoe.clone(), Condition::Damaged)], "key_s9", day(6)).unwrap();
    assert_eq!(r.restocks(), vec![(sock.clone(), r.receipt_ref(&sock), at, PositiveQuantity::new(2).unwrap())]);
    assert!(r.reject("too late".into(), "admin", day(7)).is_err());
    r.refunded(RefundMethod::OriginalPayment { psp_reference: "re_1".into() }, "admin", day(7)).unwrap();
    let steps: Vec<(ReturnStatus, &str)> = r.history.iter().map(|s| (s.status, s.by.as_str())).collect();
    assert_eq!(steps, vec![(ReturnStatus::Requested, "key_cc"), (ReturnStatus::Received, "key_s9"), (ReturnStatus::Refunded, "admin")]);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["status"], "refunded");
    assert_eq!(serde_json::from_value::<Return>(json).unwrap(), r);
}
