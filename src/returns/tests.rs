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
    r.refunded(RefundMethod::OriginalPayment { psp_reference: "re_1".into() }, &order, &[], "admin", day(7)).unwrap();
    assert_eq!(r.payout().map(|p| (p.original_payment.clone(), p.store_credit.amount)), Some((r.refund.total.clone(), Decimal::ZERO)), "no credit spent: all back to the card");
    let steps: Vec<(ReturnStatus, &str)> = r.history.iter().map(|s| (s.status, s.by.as_str())).collect();
    assert_eq!(steps, vec![(ReturnStatus::Requested, "key_cc"), (ReturnStatus::Received, "key_s9"), (ReturnStatus::Refunded, "admin")]);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["status"], "refunded");
    assert_eq!(serde_json::from_value::<Return>(json).unwrap(), r);
}

fn product(sku: &str, style: &str, price: &str) -> crate::catalog::Product {
    let draft = serde_json::json!({ "style": style, "name": sku, "color": "black", "size": "42", "price": eur(price) });
    crate::catalog::Product::from_draft(Sku::parse(sku).unwrap(), serde_json::from_value(draft).unwrap(), "2026-01-01T00:00:00Z".into())
}

fn exchange(sku: &str, quantity: u32, reason: ReturnReason, replacement: &str) -> ReturnRequest {
    let mut request = ask(&[(sku, quantity, reason)]);
    request.lines[0].replacement_sku = Some(Sku::parse(replacement).unwrap());
    request
}

#[test]
fn an_exchange_holds_the_replacement_and_becomes_a_zero_balance_in_store_order() {
    use exchange::{arrange, linked_order, Goodwill, GoodwillPolicy};
    let order = order("delivered");
    let products = [product("SOCK", "SOCKS", "14.95"), product("SOCK-L", "SOCKS", "14.95"), product("CAP", "CAPS", "9.99"), product("GIFT", "GIFTS", "4.95")];
    let mut r = open(&order, &[], exchange("SOCK", 2, ReturnReason::WrongSize, "SOCK-L"), day(5)).unwrap();
    assert_eq!(r.refund.total.amount, Decimal::ZERO, "exchanged units refund nothing");
    let gift = GoodwillPolicy::parse("defective,wrong_size", "coupon:10:90,wrong_size=gift:GIFT").unwrap();
    arrange(&mut r, &order, &products, &gift, day(5), Duration::days(3)).unwrap();
    let replacement = r.replacement.clone().unwrap();
    assert_eq!(replacement.held_until, day(8));
    let lines: Vec<(&str, u32)> = replacement.lines.iter().map(|l| (l.sku.as_str(), l.quantity.get())).collect();
    assert_eq!(lines, vec![("SOCK-L", 2), ("GIFT", 1)], "the replacement and the goodwill gift");
    assert_eq!(r.goodwill, Some(Goodwill::Gift { sku: Sku::parse("GIFT").unwrap() }));
    r.receive(r.location_id.clone(), &[(Sku::parse("SOCK").unwrap(), Condition::Resellable)], "key_s2", day(6)).unwrap();
    let linked = linked_order(&r, &order, "key_s2", day(6)).unwrap();
    assert_eq!(linked.id, replacement.order_id);
    assert_eq!(linked.status, OrderStatus::Collected);
    assert_eq!(linked.totals.grand_total.amount, Decimal::ZERO);
    assert_eq!(linked.totals.subtotal.amount.to_string(), "34.85", "2 x 14.95 + the 4.95 gift, all taken off");
    assert!(linked.allocations.iter().all(|a| a.location_id == r.location_id));

    let other_style = open(&order, &[], exchange("SOCK", 1, ReturnReason::WrongSize, "CAP"), day(5)).unwrap();
    let mut other_style = other_style;
    assert!(matches!(arrange(&mut other_style, &order, &products, &GoodwillPolicy::default(), day(5), Duration::days(3)), Err(exchange::ExchangeError::OtherStyle { .. })));
    assert_eq!(linked_order(&other_style, &order, "k", day(6)), None, "no replacement, no linked order");
}

#[test]
fn a_dearer_replacement_leaves_a_balance_to_pay_at_the_till() {
    use exchange::{arrange, linked_order, GoodwillPolicy};
    let order = order("delivered");
    let products = [product("SOCK", "SOCKS", "14.95"), product("SOCK-L", "SOCKS", "17.45")];
    let mut r = open(&order, &[], exchange("SOCK", 2, ReturnReason::WrongSize, "SOCK-L"), day(5)).unwrap();
    arrange(&mut r, &order, &products, &GoodwillPolicy::default(), day(5), Duration::days(3)).unwrap();
    let replacement = r.replacement.clone().unwrap();
    assert_eq!(replacement.balance_due.amount.to_string(), "5.00", "2 x (17.45 - 14.95)");
    assert_eq!(replacement.lines[0].unit_price.amount.to_string(), "17.45", "the replacement at its catalog price");
    assert_eq!(r.refund.total.amount, Decimal::ZERO, "a dearer exchange refunds nothing");
    r.receive(r.location_id.clone(), &[(Sku::parse("SOCK").unwrap(), Condition::Resellable)], "key_s2", day(6)).unwrap();
    let linked = linked_order(&r, &order, "key_s2", day(6)).unwrap();
    assert_eq!(
        (linked.totals.subtotal.amount.to_string(), linked.totals.discount.amount.to_string(), linked.totals.grand_total.amount.to_string()),
        ("34.90".into(), "29.90".into(), "5.00".into()),
        "what the returned units paid is taken off; the difference is paid in store"
    );
    assert_eq!(linked.payment.method, crate::sales::order::PaymentMethod::PaidInStore);
    let foreign = [product("SOCK", "SOCKS", "14.95"), {
        let mut p = product("SOCK-L", "SOCKS", "14.95");
        p.price.currency = crate::shared::money::Currency::parse("GBP").unwrap();
        p
    }];
    let mut other_currency = open(&order, &[], exchange("SOCK", 1, ReturnReason::WrongSize, "SOCK-L"), day(5)).unwrap();
    assert!(matches!(
        arrange(&mut other_currency, &order, &foreign, &GoodwillPolicy::default(), day(5), Duration::days(3)),
        Err(exchange::ExchangeError::OtherCurrency { .. })
    ));
}

#[test]
fn a_cheaper_replacement_refunds_the_difference_never_more_than_was_paid() {
    use exchange::{arrange, linked_order, GoodwillPolicy};
    let order = order("delivered");
    // SHOE sold at 89.95, 83.95 paid after the order's discount.
    let products = [product("SHOE", "SHOES", "89.95"), product("SHOE-B", "SHOES", "79.95"), product("SHOE-C", "SHOES", "1.00")];
    let mut cheaper = open(&order, &[], exchange("SHOE", 1, ReturnReason::WrongSize, "SHOE-B"), day(5)).unwrap();
    arrange(&mut cheaper, &order, &products, &GoodwillPolicy::default(), day(5), Duration::days(3)).unwrap();
    assert_eq!(cheaper.lines[0].paid.amount.to_string(), "83.95");
    assert_eq!(cheaper.lines[0].refund.amount.to_string(), "10.00", "the list price difference");
    assert_eq!(cheaper.refund.total.amount.to_string(), "10.00");
    assert_eq!(cheaper.replacement.as_ref().unwrap().balance_due.amount, Decimal::ZERO);
    cheaper.receive(cheaper.location_id.clone(), &[(Sku::parse("SHOE").unwrap(), Condition::Resellable)], "k", day(6)).unwrap();
    assert_eq!(linked_order(&cheaper, &order, "k", day(6)).unwrap().totals.grand_total.amount, Decimal::ZERO);

    // A difference above what the unit paid refunds only what it paid.
    let mut far_cheaper = open(&order, &[], exchange("SHOE", 1, ReturnReason::WrongSize, "SHOE-C"), day(5)).unwrap();
    arrange(&mut far_cheaper, &order, &products, &GoodwillPolicy::default(), day(5), Duration::days(3)).unwrap();
    assert_eq!(far_cheaper.refund.total.amount.to_string(), "83.95", "88.95 cheaper, but only 83.95 was paid");
    // Everything else returned after it: the sum of refunds is at most what was paid.
    let rest = ask(&[("SOCK", 2, ReturnReason::ChangedMind), ("CAP", 3, ReturnReason::ChangedMind)]);
    let second = open(&order, std::slice::from_ref(&far_cheaper), rest, day(6)).unwrap();
    assert_eq!(far_cheaper.refund.total.amount + second.refund.total.amount, order.totals.grand_total.amount);
}

#[test]
fn goodwill_coupons_are_issued_under_a_code_derived_from_the_return() {
    use exchange::{arrange, goodwill_code, GoodwillPolicy};
    let order = order("delivered");
    let mut r = open(&order, &[], ask(&[("CAP", 1, ReturnReason::Defective)]), day(5)).unwrap();
    arrange(&mut r, &order, &[], &GoodwillPolicy::default(), day(5), Duration::days(3)).unwrap();
    assert_eq!(r.replacement, None);
    let coupon = r.goodwill.as_ref().and_then(|g| g.coupon()).unwrap();
    assert_eq!(coupon.code, goodwill_code(&r.id));
    assert_eq!((coupon.max_redemptions, coupon.expires_at), (Some(1), Some(day(5) + Duration::days(90))));
    let mut plain = open(&order, &[], ask(&[("CAP", 1, ReturnReason::ChangedMind)]), day(5)).unwrap();
    arrange(&mut plain, &order, &[], &GoodwillPolicy::default(), day(5), Duration::days(3)).unwrap();
    assert_eq!(plain.goodwill, None, "only the configured reasons earn goodwill");
    assert!(GoodwillPolicy::parse("defective,wrong_size", "gift:SOCK").is_ok());
    let per_reason = GoodwillPolicy::parse("defective,wrong_size", "coupon:10:90, wrong_size=gift:SOCK").unwrap();
    let mut sized = open(&order, &[], ask(&[("CAP", 1, ReturnReason::ChangedMind), ("SOCK", 1, ReturnReason::WrongSize)]), day(5)).unwrap();
    assert_eq!(per_reason.offer_for(&sized), Some(&exchange::GoodwillOffer::Gift { sku: Sku::parse("SOCK").unwrap() }), "the reason's own offer");
    sized.lines.reverse();
    sized.lines[1].reason = ReturnReason::Defective;
    assert_eq!(per_reason.offer_for(&sized), Some(&exchange::GoodwillOffer::Gift { sku: Sku::parse("SOCK").unwrap() }), "the first earning line's");
    assert_eq!(per_reason.offer_for(&plain), None);
    assert!(GoodwillPolicy::parse("defective", "coupon:10:90,gift:SOCK").is_err(), "one offer for every reason");
    assert!(GoodwillPolicy::parse("defective", "wrong_size=gift:SOCK").is_err(), "an offer for every reason is needed");
    assert!(GoodwillPolicy::parse("defective", "coupon:10:90,lost=gift:SOCK").is_err());
    assert!(GoodwillPolicy::parse("lost", "coupon:10:90").is_err());
    assert!(GoodwillPolicy::parse("none", "coupon:0:90").is_err());
}

#[test]
fn over_any_mix_of_exchanges_at_any_price_the_refunds_never_exceed_what_was_paid() {
    use crate::pricing::PricedLine;
    use exchange::{arrange, GoodwillPolicy};
    let order = order("delivered");
    let mut seed: u64 = 0x5eed;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for _ in 0..300 {
        let mut returns: Vec<Return> = Vec::new();
        let mut charged = Decimal::ZERO;
        loop {
            let live: Vec<&Return> = returns.iter().collect();
            let open_lines: Vec<(&PricedLine, u32)> =
                order.lines.iter().map(|l| (l, l.quantity.get() - units_returned(&live, &l.sku))).filter(|(_, left)| *left > 0).collect();
            if open_lines.is_empty() {
                break;
            }
            let (line, left) = open_lines[next(open_lines.len() as u64) as usize];
            let quantity = 1 + next(u64::from(left)) as u32;
            let style = format!("STYLE-{}", line.sku);
            let price = format!("{}.{:02}", next(200), next(100));
            let replacement = format!("{}-X", line.sku);
            let products = [product(line.sku.as_str(), &style, &line.unit_price.amount.to_string()), product(&replacement, &style, &price)];
            let reason = if next(4) == 0 { ReturnReason::Defective } else { ReturnReason::WrongSize };
            let mut request = ask(&[(line.sku.as_str(), quantity, reason)]);
            if next(2) == 0 {
                request.lines[0].replacement_sku = Some(Sku::parse(&replacement).unwrap());
            }
            let mut r = open(&order, &returns, request, day(5)).unwrap();
            arrange(&mut r, &order, &products, &GoodwillPolicy::default(), day(5), Duration::days(3)).unwrap();
            assert!(r.lines.iter().all(|l| l.refund.amount >= Decimal::ZERO && l.refund.amount <= l.paid.amount), "{:?}", r.lines);
            charged += r.replacement.as_ref().map_or(Decimal::ZERO, |x| x.balance_due.amount);
            returns.push(r);
        }
        let refunded: Decimal = returns.iter().map(|r| r.refund.total.amount).sum();
        assert!(refunded <= order.totals.grand_total.amount, "{refunded} refunded of {} paid", order.totals.grand_total.amount);
        assert!(charged >= Decimal::ZERO);
    }
}

/// An order paid partly with store credit: refunds go back to the card up to what the
/// card paid, over all of the order's returns; the rest comes back as store credit.
#[test]
fn what_store_credit_paid_comes_back_as_store_credit() {
    let mut order = order("collected");
    let total = order.totals.grand_total.clone();
    let credit = Money { amount: Decimal::new(10000, 2), currency: total.currency };
    let card = Money { amount: total.amount - credit.amount, currency: total.currency };
    order.store_credit = Some(crate::sales::store_credit::CreditApplied { applied: credit.clone(), balance_due: card.clone() });
    order.customer_id = Some(CustomerId::parse("cus_1").unwrap());
    let at = LocationId::parse("s9").unwrap();
    let mut done: Vec<Return> = Vec::new();
    for (sku, quantity) in [("SHOE", 1), ("SOCK", 2)] {
        let mut r = open(&order, &done, ask(&[(sku, quantity, ReturnReason::ChangedMind)]), day(5)).unwrap();
        r.receive(at.clone(), &[(Sku::parse(sku).unwrap(), Condition::Resellable)], "key_s9", day(6)).unwrap();
        r.refunded(RefundMethod::OriginalPayment { psp_reference: format!("re_{sku}") }, &order, &done, "admin", day(7)).unwrap();
        let payout = r.payout().unwrap().clone();
        assert_eq!(payout.original_payment.amount + payout.store_credit.amount, r.refund.total.amount, "the parts make the refund");
        done.push(r);
    }
    let to_card: Decimal = done.iter().map(|r| r.payout().unwrap().original_payment.amount).sum();
    let to_credit: Decimal = done.iter().map(|r| r.payout().unwrap().store_credit.amount).sum();
    let refunded: Decimal = done.iter().map(|r| r.refund.total.amount).sum();
    assert!(to_card <= card.amount, "the card never gets back more than it paid");
    assert_eq!(to_card, card.amount.min(refunded), "card first");
    assert_eq!(to_credit, refunded - to_card);
    assert!(to_credit > Decimal::ZERO && done[1].payout().unwrap().original_payment.amount.is_zero(), "the card was used up by the first return");
}

/// One return with a dearer and a cheaper exchange, or a dearer exchange and a plain
/// return: the shopper pays or is refunded the net, never both.
#[test]
fn a_return_pays_for_its_dearer_replacements_before_it_refunds() {
    use exchange::{arrange, GoodwillPolicy};
    let order = order("delivered");
    let products = [product("SOCK", "SOCKS", "14.95"), product("SOCK-L", "SOCKS", "17.45"), product("SHOE", "SHOES", "89.95"), product("SHOE-B", "SHOES", "79.95"), product("CAP", "CAPS", "9.99")];
    let arranged = |lines: &[(&str, u32, Option<&str>)]| {
        let mut request = ask(&lines.iter().map(|(sku, quantity, _)| (*sku, *quantity, ReturnReason::WrongSize)).collect::<Vec<_>>());
        for (line, (_, _, replacement)) in request.lines.iter_mut().zip(lines) {
            line.replacement_sku = replacement.map(|r| Sku::parse(r).unwrap());
        }
        let mut r = open(&order, &[], request, day(5)).unwrap();
        arrange(&mut r, &order, &products, &GoodwillPolicy::default(), day(5), Duration::days(3)).unwrap();
        (r.refund.total.amount.to_string(), r.replacement.unwrap().balance_due.amount.to_string())
    };
    // +5.00 for the socks, -10.00 for the shoes: 5.00 back, nothing to pay.
    assert_eq!(arranged(&[("SOCK", 2, Some("SOCK-L")), ("SHOE", 1, Some("SHOE-B"))]), ("5.00".into(), "0.00".into()));
    // +5.00 for the socks, one cap returned (9.33 paid after the discount): 4.33 back.
    let (refund, due) = arranged(&[("SOCK", 2, Some("SOCK-L")), ("CAP", 1, None)]);
    assert_eq!(due, "0.00");
    assert_eq!(refund, "4.33");
}
