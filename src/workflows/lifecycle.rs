//! Moving an order on (mark ready, collect, ship, deliver, cancel) and reading it. A
//! transition never starts before what the order owes is settled (an order whose
//! placement died is committed first, or cancelled if its units are gone); its new
//! status and the stock effects it owes (hand over, restock) are written together, then
//! applied. The status in D1 is the truth from that write on: a stock call that fails
//! afterwards is finished by the next read, move or sweep, never lost.

use crate::access::AccessError;
use crate::sales::order::{transition, LifecycleError, OrderAction};
use crate::sales::placement::Order;
use crate::shared::ids::OrderId;
use crate::workflows::effects::stock_effects;
use crate::workflows::ports::{OrderStore, OwedBefore, Ports, Unavailable};
use crate::workflows::settlement::{settle, SettleError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("no order {0}")]
    NotFound(OrderId),
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error("the order changed meanwhile; read it again")]
    Changed,
    #[error(transparent)]
    Settle(#[from] SettleError),
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
}

/// Moves the order on by `action`, as `by` (the acting key), if `authorize` lets the
/// caller act on it. Answers the order as written.
pub async fn move_on<P: Ports>(
    ports: &P,
    id: &OrderId,
    action: OrderAction,
    by: &str,
    authorize: impl FnOnce(&Order) -> Result<(), AccessError>,
) -> Result<Order, MoveError> {
    let stored = ports.orders().order(id).await?.ok_or_else(|| MoveError::NotFound(id.clone()))?;
    authorize(&stored.order)?;
    let stored = settle(ports, stored).await?;
    let mut order = stored.order.clone();
    let next = transition(order.status, action, order.fulfilment.kind())?;
    order.record(next, ports.now(), by);
    let owed = stock_effects(&order, action.stock_effect());
    let written = ports.orders().update(&order, &stored.revision, &owed, OwedBefore::MustBeSettled).await?.ok_or(MoveError::Changed)?;
    // The move is written: stock that cannot be reached now is settled later.
    let _ = settle(ports, written).await;
    Ok(order)
}

/// Reads an order, settling first what it still owes when that can be done now.
pub async fn read<P: Ports>(ports: &P, id: &OrderId) -> Result<Order, MoveError> {
    let stored = ports.orders().order(id).await?.ok_or_else(|| MoveError::NotFound(id.clone()))?;
    Ok(match settle(ports, stored.clone()).await {
        Ok(settled) => settled.order,
        // D1 is the truth; the sweeper finishes what could not be settled now.
        Err(_) => stored.order,
    })
}
