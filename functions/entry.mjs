// The Worker's entry: the Rust worker (built by worker-build into functions/build)
// with one safety net. If the Rust side panics, the Wasm instance is aborted and the
// requests it was serving would never be answered; the Rust panic hook calls
// `__omniedgeOnPanic`, which fails them here, so every client still gets an RFC 9457
// problem, never a hang, an HTML page or a stack trace.
import RustWorker from "./build/index.js";
export { CartObject, StockObject } from "./build/index.js";

const internalError = () =>
  new Response(
    JSON.stringify({
      type: "https://omniedge.dev/problems/internal-error",
      title: "Internal Server Error",
      status: 500,
      code: "internal_error",
      detail: "something went wrong on our side; the request may be retried with the same Idempotency-Key",
    }),
    { status: 500, headers: { "content-type": "application/problem+json" } },
  );

const inFlight = new Set();
globalThis.__omniedgeOnPanic = (message) => {
  for (const fail of inFlight) fail(new Error(message));
  inFlight.clear();
};

export default {
  async fetch(request, env, ctx) {
    let fail;
    const aborted = new Promise((_, reject) => {
      fail = reject;
    });
    inFlight.add(fail);
    try {
      return await Promise.race([new RustWorker(ctx, env).fetch(request), aborted]);
    } catch (error) {
      console.error("unhandled worker failure", error);
      return internalError();
    } finally {
      inFlight.delete(fail);
    }
  },
  async scheduled(event, env, ctx) {
    await new RustWorker(ctx, env).scheduled(event);
  },
  // The reminder queue's consumer acks or retries every message itself.
  async queue(batch, env, ctx) {
    await new RustWorker(ctx, env).queue(batch);
  },
};
