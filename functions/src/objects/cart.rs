//! The cart Durable Object: one instance per cart holds the cart document. Every
//! command is applied by the domain (`omniedge::sales::cart`) and saved in the same step, so
//! a cart reached from two channels at once never loses a change or reopens. A shopper's
//! change comes with the catalog of the cart's lines and is saved only if the cart still
//! prices from it, so a refused change leaves the cart as it was. Refusals go back typed
//! (`CartRefusal`); the worker maps them to problems in `http::problem`.

use crate::objects::cart_reminders::ReminderSchedule;
use crate::objects::protocol::reply;
use chrono::Utc;
use omniedge::catalog::Product;
use omniedge::sales::cart::{Cart, CartChange, CartError};
use omniedge::shared::ids::{CartId, OrderId};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Error, Request, Response, Result, SqlStorage, State};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CartCommand {
    Create { cart: Cart },
    Get,
    /// A shopper's change, with the products of the cart's lines to price the result from.
    Change { change: CartChange, catalog: Vec<Product> },
    Close { order_id: OrderId },
}

/// Why a cart's object did not do what it was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartRefusal {
    NoSuchCart(CartId),
    /// The cart refused the command; nothing was saved.
    Refused(CartError),
}

#[durable_object]
pub struct CartObject {
    sql: SqlStorage,
    /// The cart id this object was addressed by.
    name: String,
    /// Every change re-arms the cart's reminders; the alarm hands due steps to the queue.
    reminders: ReminderSchedule,
}

impl DurableObject for CartObject {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        sql.exec("CREATE TABLE IF NOT EXISTS cart (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)", None)
            .expect("cart object schema");
        Self { sql, name: state.id().name().unwrap_or_default(), reminders: ReminderSchedule::new(&state, env) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let command: CartCommand = serde_json::from_slice(&req.bytes().await?)?;
        let changes = !matches!(command, CartCommand::Get);
        let outcome = self.apply(command);
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
    fn apply(&self, command: CartCommand) -> Result<std::result::Result<Cart, CartRefusal>> {
        let now = Utc::now();
        let changed = match (command, self.load()?) {
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

    fn load(&self) -> Result<Option<Cart>> {
        #[derive(Deserialize)]
        struct Row {
            body: String,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT body FROM cart WHERE id = 1", None)?.to_array()?;
        Ok(rows.first().map(|r| serde_json::from_str(&r.body)).transpose()?)
    }

    fn save(&self, cart: &Cart) -> Result<()> {
        self.sql.exec(
            "INSERT INTO cart (id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
            vec![serde_json::to_string(cart)?.into()],
        )?;
        Ok(())
    }
}
