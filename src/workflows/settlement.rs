//! Settling what an order owes: its effects are applied oldest first, a step at a time
//! (every SKU's hand-over at once, then every restock), and crossed off in D1. The
//! placement, the order's next read or move, its retry and the sweeper all settle the
//! same way. An order that was never written owes the voids its placement recorded
//! before taking any units; they are settled the same way once that placement can no
//! longer write it, so a placement that died between taking and writing leaves nothing
//! committed. When a commit owed by an order written before placements took their units
//! themselves cannot be applied because the units were sold meanwhile, the order is
//! cancelled instead: what it owes is replaced by restocks, so nothing is promised twice.

use crate::inventory::ledger::StockError;
use crate::sales::order::{OrderStatus, StockEffect};
use crate::shared::ids::OrderId;
use crate::workflows::effects::{stock_effects, Effect, OwedEffect};
use crate::workflows::ports::{CartPort, OrderStore, OwedBefore, PortError, Ports, StockPort, StoredOrder, Unavailable};
use futures_util::future::join_all;

/// Who the history names when the sweeper cancels an order whose stock is gone.
pub const STOCK_REPAIR: &str = "stock-repair";

/// How many times settling re-reads an order that others keep changing.
const MAX_ROUNDS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// An object refused an effect it should never refuse: the stores disagree.
    #[error("{effect:?} was refused: {reason}")]
    Refused { effect: Box<Effect>, reason: String },
}

/// Applies everything `stored` owes; answers the order as it stands afterwards, with
/// nothing owed (cancelled, when its units could not be committed).
pub async fn settle<P: Ports>(ports: &P, mut stored: StoredOrder) -> Result<StoredOrder, SettleError> {
    for _ in 0..MAX_ROUNDS {
        if stored.owed.is_empty() {
            return Ok(stored);
        }
        match apply_owed(ports, &stored.order.id, &stored.owed).await? {
            Outcome::Settled => return Ok(StoredOrder { owed: Vec::new(), ..stored }),
            Outcome::StockGone => match cancel_unfulfillable(ports, &stored).await? {
                Some(cancelled) => stored = cancelled,
                None => stored = reread(ports, &stored.order.id).await?,
            },
        }
    }
    Err(Unavailable(format!("order {} kept changing while its effects were settled", stored.order.id)).into())
}

/// Settles the order with this id, if it owes anything; an order never written settles
/// what its placement owed (its voids) once that placement can no longer write it.
pub async fn settle_order<P: Ports>(ports: &P, id: &OrderId) -> Result<Option<StoredOrder>, SettleError> {
    match ports.orders().order(id).await? {
        Some(stored) => Ok(Some(settle(ports, stored).await?)),
        None => {
            if let Some(owed) = ports.orders().unwritten(id).await? {
                // Voids are never refused for want of stock: a whole pass settles them.
                apply_owed(ports, id, &owed).await?;
            }
            Ok(None)
        }
    }
}

/// The sweeper's pass: settles up to `limit` orders that owe effects. Answers how many
/// were settled and why the others were not (they stay owed for the next pass).
pub async fn sweep<P: Ports>(ports: &P, limit: u32) -> Result<SweepReport, Unavailable> {
    let mut report = SweepReport::default();
    for id in ports.orders().owing(limit).await? {
        match settle_order(ports, &id).await {
            Ok(_) => report.settled += 1,
            Err(e) => report.failed.push((id, e)),
        }
    }
    Ok(report)
}

#[derive(Debug, Default)]
pub struct SweepReport {
    pub settled: u32,
    pub failed: Vec<(OrderId, SettleError)>,
}

async fn reread<P: Ports>(ports: &P, id: &OrderId) -> Result<StoredOrder, SettleError> {
    ports.orders().order(id).await?.ok_or_else(|| Unavailable(format!("order {id} vanished while being settled")).into())
}

enum Outcome {
    Settled,
    /// A commit was refused for want of stock.
    StockGone,
}

/// Why one effect was not applied.
enum Failure {
    StockGone,
    Settle(SettleError),
}

/// Applies the owed effects in waves: a wave is a run of effects of one kind on
/// different targets (every SKU's commit at once, then every hand-over), so no effect
/// starts before every effect of the step before it is applied; a failing wave stops
/// the rest. What was applied is crossed off either way.
async fn apply_owed<P: Ports>(ports: &P, id: &OrderId, owed: &[OwedEffect]) -> Result<Outcome, SettleError> {
    let mut applied = Vec::new();
    let mut failure = None;
    for wave in waves(owed) {
        let results = join_all(wave.iter().map(|owed| apply(ports, &owed.effect))).await;
        for (owed, result) in wave.iter().zip(results) {
            match result {
                Ok(()) => applied.push(owed.seq),
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        if failure.is_some() {
            break;
        }
    }
    if !applied.is_empty() {
        ports.orders().settled(id, &applied).await?;
    }
    match failure {
        None => Ok(Outcome::Settled),
        Some(Failure::StockGone) => Ok(Outcome::StockGone),
        Some(Failure::Settle(e)) => Err(e),
    }
}

/// Splits owed effects, oldest first, into runs of one kind with each target once.
fn waves(owed: &[OwedEffect]) -> Vec<Vec<&OwedEffect>> {
    let mut waves: Vec<Vec<&OwedEffect>> = Vec::new();
    for effect in owed {
        let joins_last = waves.last().is_some_and(|wave| {
            wave.iter().all(|o| std::mem::discriminant(&o.effect) == std::mem::discriminant(&effect.effect) && target(&o.effect) != target(&effect.effect))
        });
        match waves.last_mut() {
            Some(wave) if joins_last => wave.push(effect),
            _ => waves.push(vec![effect]),
        }
    }
    waves
}

fn target(effect: &Effect) -> String {
    match effect {
        Effect::CommitStock { sku, .. }
        | Effect::HandOver { sku, .. }
        | Effect::Restock { sku, .. }
        | Effect::ReceiveReturn { sku, .. }
        | Effect::HoldReplacement { sku, .. }
        | Effect::ReleaseReplacement { sku, .. } => format!("sku:{sku}"),
        Effect::CloseCart { cart, .. } => format!("cart:{cart}"),
    }
}

async fn apply<P: Ports>(ports: &P, effect: &Effect) -> Result<(), Failure> {
    let stock = ports.stock();
    let result = match effect {
        Effect::CommitStock { sku, order, hold, allocations } => match stock.commit(sku, order, hold, allocations).await {
            Err(PortError::Refused(StockError::Shortage { .. })) => return Err(Failure::StockGone),
            other => other.map_err(|e| e.map_refusal(|r| r.to_string())),
        },
        Effect::HandOver { sku, order } => stock.hand_over(sku, order).await.map_err(|e| e.map_refusal(|r| r.to_string())),
        Effect::Restock { sku, order } => stock.restock(sku, order).await.map_err(|e| e.map_refusal(|r| r.to_string())),
        Effect::ReceiveReturn { sku, receipt, location_id, quantity } => stock.receive_return(sku, receipt, location_id, *quantity).await.map_err(PortError::from),
        // Units sold meanwhile cannot be kept: the replacement is then handed over from what is there.
        Effect::HoldReplacement { sku, order, hold, allocations, until } => match stock.hold_for_order(sku, order, hold, allocations, *until).await {
            Err(PortError::Refused(StockError::Shortage { .. })) => Ok(()),
            other => other.map_err(|e| e.map_refusal(|r| r.to_string())),
        },
        Effect::ReleaseReplacement { sku, order, hold } => match stock.restock(sku, order).await {
            Ok(()) => stock.release(sku, hold).await.map_err(PortError::from),
            Err(e) => Err(e.map_refusal(|r| r.to_string())),
        },
        Effect::CloseCart { cart, order } => ports.carts().close(cart, order).await.map_err(|e| e.map_refusal(|r| r.to_string())),
    };
    result.map_err(|e| {
        Failure::Settle(match e {
            PortError::Unavailable(u) => SettleError::Unavailable(u),
            PortError::Refused(reason) => SettleError::Refused { effect: Box::new(effect.clone()), reason },
        })
    })
}

impl<E> PortError<E> {
    /// The same failure with the refusal turned into another type.
    pub fn map_refusal<F>(self, f: impl FnOnce(E) -> F) -> PortError<F> {
        match self {
            PortError::Refused(e) => PortError::Refused(f(e)),
            PortError::Unavailable(u) => PortError::Unavailable(u),
        }
    }
}

/// Cancels an order whose units are gone: what it owes of stock becomes restocks (which
/// put back what was committed and void what was not), the cart stays closed. `None`
/// when the order was written meanwhile.
async fn cancel_unfulfillable<P: Ports>(ports: &P, stored: &StoredOrder) -> Result<Option<StoredOrder>, SettleError> {
    let mut order = stored.order.clone();
    order.record(OrderStatus::Cancelled, ports.now(), STOCK_REPAIR);
    let mut owed = stock_effects(&order, StockEffect::Restock);
    owed.extend(stored.owed.iter().filter(|o| matches!(o.effect, Effect::CloseCart { .. })).map(|o| o.effect.clone()));
    Ok(ports.orders().update(&order, &stored.revision, &owed, OwedBefore::Replaced).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ledger::OrderRef;
    use crate::shared::ids::{CartId, Sku};

    fn owed(seq: i64, effect: Effect) -> OwedEffect {
        OwedEffect { seq, effect }
    }

    #[test]
    fn waves_run_one_step_at_a_time_across_targets() {
        let sku = |s: &str| Sku::parse(s).unwrap();
        let order = OrderRef("order:o1".into());
        let hand_over = |s: &str| Effect::HandOver { sku: sku(s), order: order.clone() };
        let restock = |s: &str| Effect::Restock { sku: sku(s), order: order.clone() };
        let close = Effect::CloseCart { cart: CartId::parse("cart_1").unwrap(), order: OrderId::parse("o1").unwrap() };
        let list = vec![owed(1, hand_over("A")), owed(2, hand_over("B")), owed(3, restock("A")), owed(4, restock("B")), owed(5, close)];
        let seqs: Vec<Vec<i64>> = waves(&list).iter().map(|w| w.iter().map(|o| o.seq).collect()).collect();
        assert_eq!(seqs, vec![vec![1, 2], vec![3, 4], vec![5]]);
        let twice = vec![owed(1, hand_over("A")), owed(2, hand_over("A"))];
        assert_eq!(waves(&twice).len(), 2, "one target never twice in a wave");
    }
}
