//! Customer profiles, one per email across every channel, maintained by back-office
//! and storefront keys; a shopper session reads and changes its own.

use crate::d1;
use crate::http::error::ApiResult;
use crate::http::{json, json_body, new_id, now_rfc3339, path_id};
use omniedge::access::Principal;
use omniedge::customers::{Customer, CustomerDraft};
use omniedge::shared::ids::CustomerId;
use crate::http::problem::Problem;
use worker::{D1Database, Env, Request, Response};

fn email_taken(email: &str) -> Problem {
    Problem::conflict("customer_email_taken", format!("another customer already has the email {email:?}"))
}

pub async fn create(req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    caller.may_maintain_customers()?;
    let draft: CustomerDraft = json_body(req).await?;
    let now = now_rfc3339();
    let customer = Customer::from_draft(new_id("cus"), draft, now.clone(), now);
    match d1::customers::insert(&d1::database(env)?, &customer).await? {
        Some(()) => json(201, &customer),
        None => Err(email_taken(customer.email.as_str()).into()),
    }
}

pub async fn get(id: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CustomerId::parse)?;
    caller.may_read_customer(&id)?;
    json(200, &find(&d1::database(env)?, &id).await?)
}

/// The customer with this id, or the 404 every customer route gives.
pub async fn find(db: &D1Database, id: &CustomerId) -> ApiResult<Customer> {
    d1::customers::get(db, id).await?.ok_or_else(|| Problem::not_found("customer", id.as_str()).into())
}

pub async fn replace(id: &str, req: &mut Request, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CustomerId::parse)?;
    caller.may_change_customer(&id)?;
    let draft: CustomerDraft = json_body(req).await?;
    let db = d1::database(env)?;
    let existing = find(&db, &id).await?;
    let customer = Customer::from_draft(existing.id, draft, existing.created_at, now_rfc3339());
    if d1::customers::replace(&db, &customer).await? {
        json(200, &customer)
    } else {
        Err(email_taken(customer.email.as_str()).into())
    }
}

/// Carts and orders of a customer from every channel in one timeline, newest first.
pub async fn timeline(id: &str, env: &Env, caller: &Principal) -> ApiResult<Response> {
    let id = path_id(id, CustomerId::parse)?;
    caller.may_read_customer(&id)?;
    let db = d1::database(env)?;
    find(&db, &id).await?;
    let items = d1::orders::timeline(&db, &id, 200).await?;
    json(200, &serde_json::json!({ "customer_id": id, "items": items }))
}
