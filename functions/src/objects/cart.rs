//! The cart Durable Object: one instance per cart holds the cart document (kept in
//! memory too once read, as every write goes through the instance). Every
//! command is applied by the domain (`omniedge::sales::cart`) and saved in the same step, so
//! a cart reached from two channels at once never loses a change or reopens. A shopper's
//! change comes with the catalog of the cart's lines and is saved only if the cart still
//! prices from it, so a refused change leaves the cart as it was. Setting a line is one
//! call: the object admits the caller and holds the units itself (`holds`). Every change
//! re-arms the cart's reminders (`cart_reminders`). Refusals go back typed
//! (`CartRefusal`); the worker maps them to problems in `http::problem`.

mod holds;

use crate::http::error::ApiResult;
use crate::objects::cart_reminders::ReminderSchedule;
use crate::http::read_body;
use crate::objects::protocol::reply;
use chrono::Utc;
use omniedge::access::cart_token::CartToken;
use omniedge::access::{AccessError, Principal};
use omniedge::catalog::Product;
use omniedge::inventory::ledger::StockError;
use omniedge::sales::cart::{Cart, CartChange, CartError};
use omniedge::shared::ids::{CartId, OrderId, Sku};
use omniedge::shared::quantity::PositiveQuantity;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use worker::{durable_object, DurableObject, Env, Error, Request, Response, Result, SqlStorage, State};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CartCommand {
    Create { cart: Cart },
    Get,
    /// A shopper's change, with the products of the cart's lines to price the result from.
    Change { change: CartChange, catalog: Vec<Product> },
    Close { order_id: OrderId },
    /// A caller (with the cart token it presented) sets a line's quantity, holding its units.
    PutLine { sku: Sku, quantity: PositiveQuantity, caller: Principal, token: Option<CartToken> },
}

/// Why a cart's object did not do what it was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartRefusal {
    NoSuchCart(CartId),
    /// The cart refused the command; nothing was saved.
    Refused(CartError),
    /// The cart is not the caller's to change.
    Denied(AccessError),
    /// The line's SKU is not in the catalog.
    UnknownSku(Sku),
    /// The line's units could not be held.
    Short { sku: Sku, refusal: StockError },
}

#[durable_object]
pub struct CartObject {
    sql: SqlStorage,
    env: Env,
    /// The cart id this object was addressed by.
    name: String,
    /// Every change re-arms the cart's reminders; the alarm hands due steps to the queue.
    reminders: ReminderSchedule,
    /// The cart as last read or saved by this instance (every write goes through it).
    cart: RefCell<Option<Cart>>,
}

impl DurableObject for CartObject {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        sql.exec("CREATE TABLE IF NOT EXISTS cart (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)", None)
            .expect("cart object schema");
        Self { sql, name: state.id().name().unwrap_or_default(), reminders: ReminderSchedule::new(&state, env.clone()), env, cart: RefCell::new(None) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let command: CartCommand = serde_json::from_slice(&read_body(&req).await?)?;
        let changes = !matches!(command, CartCommand::Get);
        let outcome = self.apply(command).await.map_err(|e| Error::RustError(e.0.detail));
        if let (true, Ok(Ok(cart))) = (changes, &outcome) {
            self.reminders.arm(cart).await?;
        }
        reply(outcome)
    }

    async fn alarm(&self) -> Result<Response> {
        self.reminders.fire(self.load()?).await?;
        Response::ok("")
    }
}

impl CartObject {
    /// The cart after the command, or why it was refused; storage failures are errors.
    async fn apply(&self, command: CartCommand) -> ApiResult<std::result::Result<Cart, CartRefusal>> {
        let now = Utc::now();
        let changed = match (command, self.load()?) {
            (CartCommand::PutLine { sku, quantity, caller, token }, _) => return self.put_line(sku, quantity, &caller, token.as_ref()).await,
            (CartCommand::Create { cart }, None) => Ok(cart),
            (_, None) => return Ok(Err(CartRefusal::NoSuchCart(self.cart_id()?))),
            (CartCommand::Create { .. } | CartCommand::Get, Some(cart)) => return Ok(Ok(cart)),
            (CartCommand::Change { change, catalog }, Some(mut cart)) => cart.apply(change, &catalog, now).map(|()| cart),
            (CartCommand::Close { order_id }, Some(mut cart)) => cart.close(order_id, now).map(|()| cart),
        };
        match changed {
            Ok(cart) => {
                self.save(&cart)?;
                Ok(Ok(cart))
            }
            Err(refused) => Ok(Err(CartRefusal::Refused(refused))),
        }
    }

    fn cart_id(&self) -> Result<CartId> {
        CartId::parse(&self.name).map_err(|e| Error::RustError(format!("cart object addressed by {e}")))
    }

    /// The cart: from memory once this instance has read or saved it.
    fn load(&self) -> Result<Option<Cart>> {
        #[derive(Deserialize)]
        struct Row {
            body: String,
        }
        if let Some(cart) = self.cart.borrow().as_ref() {
            return Ok(Some(cart.clone()));
        }
        let rows: Vec<Row> = self.sql.exec("SELECT body FROM cart WHERE id = 1", None)?.to_array()?;
        let cart: Option<Cart> = rows.first().map(|r| serde_json::from_str(&r.body)).transpose()?;
        self.cart.replace(cart.clone());
        Ok(cart)
    }

    fn save(&self, cart: &Cart) -> Result<()> {
        self.sql.exec(
            "INSERT INTO cart (id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
            vec![serde_json::to_string(cart)?.into()],
        )?;
        self.cart.replace(Some(cart.clone()));
        Ok(())
    }
}
