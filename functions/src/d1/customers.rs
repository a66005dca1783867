//! The `customers` table: one profile per email, shared by every channel.

use super::{document, upsert};
use crate::http::error::ApiResult;
use omniedge::customers::{Customer, Email};
use omniedge::shared::ids::CustomerId;
use worker::D1Database;

/// Creates a customer; `None` when another customer already has the email.
pub async fn insert(db: &D1Database, customer: &Customer) -> ApiResult<Option<()>> {
    let body = serde_json::to_string(customer)?;
    let created = upsert(
        db,
        "INSERT INTO customers (id, email, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(email) DO NOTHING RETURNING created_at",
        &[customer.id.as_str().into(), customer.email.as_str().into(), body.into(), customer.created_at.as_str().into()],
        &customer.created_at,
    )
    .await?;
    Ok(created.then_some(()))
}

/// Replaces a customer's profile; false when the new email belongs to someone else.
pub async fn replace(db: &D1Database, customer: &Customer) -> ApiResult<bool> {
    let body = serde_json::to_string(customer)?;
    let taken = db
        .prepare("SELECT 1 AS taken FROM customers WHERE email = ?1 AND id <> ?2")
        .bind(&[customer.email.as_str().into(), customer.id.as_str().into()])?
        .first::<serde_json::Value>(None)
        .await?
        .is_some();
    if taken {
        return Ok(false);
    }
    db.prepare("UPDATE customers SET email = ?2, body = ?3, updated_at = ?4 WHERE id = ?1")
        .bind(&[customer.id.as_str().into(), customer.email.as_str().into(), body.into(), customer.updated_at.as_str().into()])?
        .run()
        .await?;
    Ok(true)
}

pub async fn get(db: &D1Database, id: &CustomerId) -> ApiResult<Option<Customer>> {
    document(db, "SELECT body FROM customers WHERE id = ?1", &[id.as_str().into()]).await
}

pub async fn by_email(db: &D1Database, email: &Email) -> ApiResult<Option<Customer>> {
    document(db, "SELECT body FROM customers WHERE email = ?1", &[email.as_str().into()]).await
}
