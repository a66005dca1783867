//! CORS for publishable keys. A preflight carries no key, so it is answered (204) for
//! any origin that some live publishable key allows; each real request's `Origin` is
//! then checked against its own key's origins, and a page from any other origin gets a
//! 403 problem without CORS headers, so the browser blocks it. Secret keys get no CORS
//! headers (a browser must not hold them); calls without `Origin` (servers, apps) are
//! not affected.

use crate::d1;
use crate::d1::api_keys::KeyRecord;
use crate::d1::cache::TtlCache;
use crate::http::error::ApiResult;
use crate::http::problem::Problem;
use omniedge::access::origin::WebOrigin;
use omniedge::access::Principal;
use std::rc::Rc;
use worker::{Env, Method, Request, Response};

/// Request headers a page may send.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, Idempotency-Key, X-Cart-Token, X-Shopper-Token";
/// Response headers a page may read.
const EXPOSED_HEADERS: &str = "Idempotent-Replayed, Retry-After";
/// How long a browser may reuse a preflight's answer.
const MAX_AGE_SECONDS: &str = "600";

/// What a request's answer may carry for the page that sent it.
pub enum Grant {
    /// Not decided (the request failed before its key was known): allowed when some
    /// live publishable key allows the origin, so the page can read the problem.
    Undecided,
    /// The page's origin is allowed by the calling key.
    Allowed(WebOrigin),
    /// No CORS headers: a secret key, a refused origin, or an answered preflight.
    Withheld,
}

/// The `Origin` a browser sent, as sent.
pub fn origin_of(req: &Request) -> Option<String> {
    req.headers().get("origin").ok().flatten()
}

/// Whether the request is a CORS preflight.
pub fn is_preflight(req: &Request, origin: Option<&str>) -> bool {
    req.inner().method() == "OPTIONS" && origin.is_some() && req.headers().has("access-control-request-method").unwrap_or(false)
}

/// Answers a preflight for a route serving `methods`.
pub async fn preflight(origin: &str, methods: &[Method], env: &Env) -> ApiResult<Response> {
    let allowed = match WebOrigin::parse(origin) {
        Ok(parsed) if allowed_anywhere(&parsed, env).await? => parsed,
        _ => return Err(Problem::origin_not_allowed(origin).into()),
    };
    let response = Response::empty()?.with_status(204);
    let headers = response.headers();
    set_allow_origin(headers, &allowed)?;
    let methods: Vec<&str> = methods.iter().map(|m| m.as_ref()).collect();
    headers.set("access-control-allow-methods", &methods.join(", "))?;
    headers.set("access-control-allow-headers", ALLOWED_HEADERS)?;
    headers.set("access-control-max-age", MAX_AGE_SECONDS)?;
    Ok(response)
}

/// Checks a real request's origin against its key: publishable keys only serve pages
/// from their own origins.
pub fn admit(record: &KeyRecord, origin: Option<&str>) -> ApiResult<Grant> {
    match (&record.principal, origin) {
        (Principal::Publishable { .. }, Some(origin)) => match WebOrigin::parse(origin) {
            Ok(parsed) if record.origins.contains(&parsed) => Ok(Grant::Allowed(parsed)),
            _ => Err(Problem::origin_not_allowed(origin).into()),
        },
        _ => Ok(Grant::Withheld),
    }
}

/// Adds what the grant allows to an answer; `Vary: Origin` whenever an origin was sent.
pub async fn finish(response: Response, origin: Option<&str>, grant: Grant, env: &Env) -> Response {
    let Some(origin) = origin else { return response };
    let allowed = match grant {
        Grant::Allowed(allowed) => Some(allowed),
        Grant::Withheld => None,
        Grant::Undecided => match WebOrigin::parse(origin) {
            Ok(parsed) => allowed_anywhere(&parsed, env).await.unwrap_or(false).then_some(parsed),
            Err(_) => None,
        },
    };
    let headers = response.headers();
    let set = match &allowed {
        Some(allowed) => set_allow_origin(headers, allowed).and_then(|()| headers.set("access-control-expose-headers", EXPOSED_HEADERS)),
        None => headers.append("vary", "Origin"),
    };
    if let Err(e) = set {
        worker::console_error!("could not set CORS headers: {e}");
    }
    response
}

fn set_allow_origin(headers: &worker::Headers, origin: &WebOrigin) -> worker::Result<()> {
    headers.set("access-control-allow-origin", origin.as_str())?;
    headers.append("vary", "Origin")
}

/// Whether some live publishable key allows `origin` (cached in the isolate, see `cache`).
async fn allowed_anywhere(origin: &WebOrigin, env: &Env) -> ApiResult<bool> {
    let cache = ORIGINS.with(Rc::clone);
    if let Some(known) = cache.get(origin) {
        return Ok(*known);
    }
    let allowed = d1::api_keys::origin_allowed(&d1::database(env)?, origin).await?;
    Ok(*cache.put(origin.clone(), allowed))
}

thread_local! {
    static ORIGINS: Rc<TtlCache<WebOrigin, bool>> = Rc::new(TtlCache::new());
}

/// Forgets which origins are allowed, after a key is issued or revoked.
pub fn forget_origins() {
    ORIGINS.with(|c| c.clear());
}
