//! Idempotency records in D1, for calls whose effects span several stores (placing an
//! order touches stock objects, the cart and D1). A call first claims its key; a retry
//! of a finished call gets the stored answer; a retry while the first is still running
//! waits for it; a claim left by a call that died is taken over once it is stale.

use crate::http::error::ApiResult;
use omniedge::workflows::ports::ClaimRefused;
use serde::Deserialize;
use std::time::Duration;
use worker::{D1Database, D1PreparedStatement, D1Result, Delay};

/// A claim older than this belongs to a call that died; a retry may take it over.
const STALE_AFTER_SECONDS: i64 = 30;
/// How long a retry waits for the first call to finish.
const WAIT_ROUNDS: u32 = 40;
const WAIT_STEP: Duration = Duration::from_millis(250);

/// The outcome of claiming a key.
pub enum Claim {
    /// This call owns the key and must `finish` or `abandon` it.
    Owned,
    /// An earlier call with the same body finished: here is its answer.
    Replay { body: String },
}

#[derive(Deserialize)]
struct Record {
    fingerprint: String,
    state: String,
    response: Option<String>,
    created_at: String,
}

/// Claims `key` for `owner` (a token unique to this attempt).
pub async fn claim(db: &D1Database, scope: &str, key: &str, fingerprint: &str, owner: &str, now: &str) -> ApiResult<Result<Claim, ClaimRefused>> {
    Ok(claim_with(db, scope, key, fingerprint, owner, now, &|| Ok(Vec::new())).await?.map(|(claim, _)| claim))
}

/// Claims `key` for `owner` as `claim` does, running `with`'s statements in the same batch
/// as the claim's write (right after it: condition writes on `still_owned`); answers
/// their results with an owned claim.
pub async fn claim_with(
    db: &D1Database,
    scope: &str,
    key: &str,
    fingerprint: &str,
    owner: &str,
    now: &str,
    with: &dyn Fn() -> ApiResult<Vec<D1PreparedStatement>>,
) -> ApiResult<Result<(Claim, Vec<D1Result>), ClaimRefused>> {
    for _ in 0..WAIT_ROUNDS {
        let insert = first_claim(db, scope, key, fingerprint, owner, now)?;
        let mut results = db.batch([vec![insert], with()?].concat()).await?;
        if !results.is_empty() && !results[0].results::<serde_json::Value>()?.is_empty() {
            return Ok(Ok((Claim::Owned, results.split_off(1))));
        }
        let record: Option<Record> = db
            .prepare("SELECT fingerprint, state, response, created_at FROM idempotency_records WHERE scope = ?1 AND key = ?2")
            .bind(&[scope.into(), key.into()])?
            .first(None)
            .await?;
        let Some(record) = record else { continue };
        if record.fingerprint != fingerprint {
            return Ok(Err(ClaimRefused::KeyReused));
        }
        if record.state == "done" {
            return Ok(Ok((Claim::Replay { body: record.response.unwrap_or_default() }, Vec::new())));
        }
        if is_stale(&record.created_at, now) {
            if let Some(results) = take_over(db, scope, key, &record.created_at, owner, now, with).await? {
                return Ok(Ok((Claim::Owned, results)));
            }
        }
        Delay::from(WAIT_STEP).await;
    }
    Ok(Err(ClaimRefused::InUse))
}

/// The statement that claims a key no call holds yet (it answers a row when it did).
fn first_claim(db: &D1Database, scope: &str, key: &str, fingerprint: &str, owner: &str, now: &str) -> ApiResult<D1PreparedStatement> {
    Ok(db
        .prepare(
            "INSERT INTO idempotency_records (scope, key, fingerprint, state, created_at, owner) VALUES (?1, ?2, ?3, 'pending', ?4, ?5)
             ON CONFLICT(scope, key) DO NOTHING RETURNING key",
        )
        .bind(&[scope.into(), key.into(), fingerprint.into(), now.into(), owner.into()])?)
}

fn is_stale(claimed_at: &str, now: &str) -> bool {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (parse(claimed_at), parse(now)) {
        (Some(then), Some(now)) => (now - then).num_seconds() >= STALE_AFTER_SECONDS,
        _ => false,
    }
}

/// Takes over a stale claim (with `with`'s statements in the same batch), unless another
/// retry just did: from now on only `owner`'s order can be written under this key.
async fn take_over(
    db: &D1Database,
    scope: &str,
    key: &str,
    claimed_at: &str,
    owner: &str,
    now: &str,
    with: &dyn Fn() -> ApiResult<Vec<D1PreparedStatement>>,
) -> ApiResult<Option<Vec<D1Result>>> {
    let update = db
        .prepare("UPDATE idempotency_records SET created_at = ?4, owner = ?5 WHERE scope = ?1 AND key = ?2 AND state = 'pending' AND created_at = ?3")
        .bind(&[scope.into(), key.into(), claimed_at.into(), now.into(), owner.into()])?;
    let mut results = db.batch([vec![update], with()?].concat()).await?;
    let taken = results.first().and_then(|r| r.meta().ok().flatten()).and_then(|m| m.changes).unwrap_or(0) == 1;
    Ok(taken.then(|| results.split_off(1)))
}

/// The condition under which a claimed call's writes happen: `owner` still holds the
/// pending claim (bind `scope`, `key`, `owner` as ?S, ?K, ?O of the caller's statement).
pub fn still_owned(s: usize, k: usize, o: usize) -> String {
    format!("EXISTS (SELECT 1 FROM idempotency_records WHERE scope = ?{s} AND key = ?{k} AND owner = ?{o} AND state = 'pending')")
}

/// The statement that records the answer, if `owner` still holds the claim; run it in the
/// same batch as the call's writes, after them.
pub fn finish(db: &D1Database, scope: &str, key: &str, owner: &str, status: u16, body: &str) -> ApiResult<D1PreparedStatement> {
    Ok(db
        .prepare("UPDATE idempotency_records SET state = 'done', status = ?3, response = ?4 WHERE scope = ?1 AND key = ?2 AND owner = ?5 AND state = 'pending'")
        .bind(&[scope.into(), key.into(), status.into(), body.into(), owner.into()])?)
}

/// Lets go of `owner`'s claim after a refusal, so a corrected retry may run.
pub async fn abandon(db: &D1Database, scope: &str, key: &str, owner: &str) -> ApiResult<()> {
    db.prepare("DELETE FROM idempotency_records WHERE scope = ?1 AND key = ?2 AND owner = ?3 AND state = 'pending'")
        .bind(&[scope.into(), key.into(), owner.into()])?
        .run()
        .await?;
    Ok(())
}
