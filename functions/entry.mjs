// The Worker's entry: the Rust worker (built by worker-build into functions/build)
// with one safety net, and the Rust Durable Objects served over Workers RPC.
//
// If the Rust side panics, the Wasm instance is aborted and the requests it was serving
// would never be answered; the Rust panic hook calls `__omniedgeOnPanic`, which fails
// them here, so every client still gets an RFC 9457 problem, never a hang, an HTML page
// or a stack trace.
//
// workers-rs objects answer only `fetch`, and a fetch to an object is a subrequest: a
// Request and a Response on both sides (and, under `wrangler dev`, four devtools
// network events relayed to Node). Each object here is its Rust object behind a class
// that extends `DurableObject`, whose `command` method callers reach by RPC
// (`functions/src/objects/protocol.rs`): the JSON command goes to the Rust `fetch`
// inside the object, and its answer's body comes back, or an error when it failed.
import { DurableObject } from "cloudflare:workers";
import RustWorker, { CartObject as RustCartObject, StockObject as RustStockObject } from "./build/index.js";

const COMMAND_URL = "https://object.internal/command";

class RpcObject extends DurableObject {
  constructor(ctx, env, RustObject) {
    super(ctx, env);
    this.object = new RustObject(ctx, env);
  }

  async command(body) {
    const answer = await this.object.fetch(new Request(COMMAND_URL, { method: "POST", body }));
    if (answer.status !== 200) throw new Error(`object answered ${answer.status}`);
    return answer.text();
  }

  alarm() {
    return this.object.alarm();
  }
}

export class CartObject extends RpcObject {
  constructor(ctx, env) {
    super(ctx, env, RustCartObject);
  }
}

export class StockObject extends RpcObject {
  constructor(ctx, env) {
    super(ctx, env, RustStockObject);
  }
}

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
