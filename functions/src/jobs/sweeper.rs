//! The cron's sweeper (every minute): settles what orders still owe the Durable Objects
//! after a flow died halfway (see `omniedge::workflows::settlement`), and what carts
//! owe (reminder deliveries decided but not yet handed to the queue). Each pass takes the
//! oldest debts first, a bounded number of orders and carts; what fails stays owed for the next.

use crate::ports::EdgePorts;
use omniedge::workflows::settlement::sweep;
use worker::Env;

/// Orders one pass settles at most.
const ORDERS_PER_PASS: u32 = 100;

pub async fn run(env: &Env) {
    let ports = match EdgePorts::new(env, None) {
        Ok(ports) => ports,
        Err(e) => return worker::console_error!("sweeper: {}", e.0.detail),
    };
    match sweep(&ports, ORDERS_PER_PASS).await {
        Ok(report) => {
            for (order, error) in report.failed {
                worker::console_error!("sweeper: order {order} still owes effects: {error}");
            }
        }
        Err(e) => worker::console_error!("sweeper: {e}"),
    }
    let (store, queue) = match (crate::d1::database(env), crate::jobs::reminders::QueueBinding::new(env)) {
        (Ok(db), Ok(queue)) => (crate::d1::reminders::D1Reminders { db }, queue),
        (Err(e), _) | (_, Err(e)) => return worker::console_error!("sweeper: {}", e.0.detail),
    };
    match omniedge::workflows::reminders::sweep_carts(&store, &queue, ORDERS_PER_PASS).await {
        Ok(failed) => {
            for (cart, error) in failed {
                worker::console_error!("sweeper: cart {cart} still owes effects: {error}");
            }
        }
        Err(e) => worker::console_error!("sweeper: {e}"),
    }
}
