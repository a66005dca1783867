//! The workflows' ports bound to the platform for one request or cron run: D1 for
//! orders, returns and what they owe, the stock and cart Durable Objects, the clock.

use crate::d1::order_store::D1OrderStore;
use crate::http::error::ApiResult;
use crate::http::faults::Fault;
use crate::objects::cart_client::CartObjects;
use crate::objects::stock_client::StockObjects;
use chrono::{DateTime, Utc};
use omniedge::workflows::ports::Ports;
use worker::Env;

pub struct EdgePorts<'a> {
    orders: D1OrderStore,
    stock: StockObjects<'a>,
    carts: CartObjects<'a>,
    /// How far the clock is moved (tests only, see `http::faults::clock_offset`).
    clock_offset: chrono::Duration,
}

impl<'a> EdgePorts<'a> {
    /// The ports for a request that may have asked for a `fault` (tests only).
    pub fn new(env: &'a Env, fault: Option<Fault>) -> ApiResult<Self> {
        Ok(EdgePorts {
            orders: D1OrderStore { db: crate::d1::database(env)?, fault, placement_hold: chrono::Duration::seconds(crate::config::placement_hold_seconds(env)) },
            stock: StockObjects { env, fault },
            carts: CartObjects { env },
            clock_offset: chrono::Duration::zero(),
        })
    }

    /// The same ports with the clock moved by `offset`.
    pub fn with_clock_offset(self, offset: chrono::Duration) -> Self {
        EdgePorts { clock_offset: offset, ..self }
    }
}

impl<'a> Ports for EdgePorts<'a> {
    type Orders = D1OrderStore;
    type Returns = D1OrderStore;
    type Stock = StockObjects<'a>;
    type Carts = CartObjects<'a>;
    fn orders(&self) -> &D1OrderStore {
        &self.orders
    }
    fn returns(&self) -> &D1OrderStore {
        &self.orders
    }
    fn stock(&self) -> &StockObjects<'a> {
        &self.stock
    }
    fn carts(&self) -> &CartObjects<'a> {
        &self.carts
    }
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }
}
