//! The cart Durable Object: one instance per cart holds the cart document. Every
//! command is applied by the domain (`omniedge::sales::cart`) and saved in the same step, so
//! a cart reached from two channels at once never loses a change or reopens.

use crate::objects::protocol::{answer, internal, Outcome};
use chrono::Utc;
use omniedge::sales::cart::{Cart, CartLine, CartUpdate};
use omniedge::shared::ids::{OrderId, Sku};
use omniedge::Problem;
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CartCommand {
    Create { cart: Cart },
    Get,
    SetLines { lines: Vec<CartLine> },
    RemoveLine { sku: Sku },
    Update { update: CartUpdate },
    Close { order_id: OrderId },
}

#[durable_object]
pub struct CartObject {
    sql: SqlStorage,
    /// The cart id this object was addressed by.
    name: String,
}

impl DurableObject for CartObject {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        sql.exec("CREATE TABLE IF NOT EXISTS cart (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)", None)
            .expect("cart object schema");
        Self { sql, name: state.id().name().unwrap_or_default() }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let command: CartCommand = serde_json::from_slice(&req.bytes().await?)?;
        answer(self.apply(command))
    }
}

impl CartObject {
    fn apply(&self, command: CartCommand) -> Outcome<Cart> {
        let now = Utc::now();
        let cart = match (command, self.load()?) {
            (CartCommand::Create { cart }, None) => cart,
            (CartCommand::Create { .. }, Some(existing)) => return Ok(existing),
            (_, None) => return Err(Problem::not_found("cart", &self.name)),
            (CartCommand::Get, Some(cart)) => return Ok(cart),
            (CartCommand::SetLines { lines }, Some(mut cart)) => {
                cart.set_lines(lines, now)?;
                cart
            }
            (CartCommand::RemoveLine { sku }, Some(mut cart)) => {
                cart.remove_line(&sku, now)?;
                cart
            }
            (CartCommand::Update { update }, Some(mut cart)) => {
                cart.update(update, now)?;
                cart
            }
            (CartCommand::Close { order_id }, Some(mut cart)) => {
                cart.close(order_id, now)?;
                cart
            }
        };
        self.save(&cart)?;
        Ok(cart)
    }

    fn load(&self) -> Outcome<Option<Cart>> {
        #[derive(Deserialize)]
        struct Row {
            body: String,
        }
        let rows: Vec<Row> = self.sql.exec("SELECT body FROM cart WHERE id = 1", None).and_then(|c| c.to_array()).map_err(|e| internal("cart object", e))?;
        rows.first().map(|r| serde_json::from_str(&r.body).map_err(|_| Problem::internal())).transpose()
    }

    fn save(&self, cart: &Cart) -> Outcome<()> {
        let body = serde_json::to_string(cart).map_err(|_| Problem::internal())?;
        self.sql
            .exec(
                "INSERT INTO cart (id, body) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET body = excluded.body",
                vec![body.into()],
            )
            .map_err(|e| internal("cart object", e))?;
        Ok(())
    }
}
