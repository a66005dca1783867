//! omniedge's edge functions: the Worker that binds the domain and its workflows (the
//! `omniedge` crate) to HTTP (`http`, `api`), the stock and cart Durable Objects
//! (`objects`), D1 (`d1`), the workflows' ports (`ports`) and the cron (`jobs`).
//! Handlers are thin: parse input into domain types, authorize, call a workflow or a
//! store, answer; every error becomes a problem document, its status and code chosen
//! in `http/problem.rs`, rendered in `http/error.rs`.

mod api;
mod config;
mod d1;
mod http;
mod jobs;
mod objects;
mod ports;

pub use objects::cart::CartObject;
pub use objects::stock::StockObject;

use wasm_bindgen::JsCast;
use worker::{event, Context, Env, MessageBatch, Request, Response, Result, ScheduleContext, ScheduledEvent};

/// Logs a panic and tells the JS entry (functions/entry.mjs) to answer the requests the
/// aborted instance can no longer answer.
#[event(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        worker::console_error!("panic: {info}");
        let hook = js_sys::Reflect::get(&js_sys::global(), &"__omniedgeOnPanic".into());
        if let Ok(hook) = hook.and_then(|h| h.dyn_into::<js_sys::Function>()) {
            let _ = hook.call1(&wasm_bindgen::JsValue::NULL, &"panic".into());
        }
    }));
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(http::router::dispatch(req, &env).await)
}

/// Every minute: settle what flows that died halfway still owe.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    jobs::sweeper::run(&env).await;
}

/// The reminder queue: decide due steps, deliver reminders (every message is acked or
/// retried by the consumer itself).
#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
    jobs::reminders::consume(batch, &env).await;
    Ok(())
}
