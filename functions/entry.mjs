// The Worker's entry: the Rust worker (built by worker-build into functions/build)
// with one safety net. If the Rust side traps (a panic aborts the Wasm instance),
// the client still gets an RFC 9457 problem, never an HTML page or a stack trace.
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

export default {
  async fetch(request, env, ctx) {
    try {
      return await new RustWorker(ctx, env).fetch(request);
    } catch (error) {
      console.error("unhandled worker failure", error);
      return internalError();
    }
  },
};
