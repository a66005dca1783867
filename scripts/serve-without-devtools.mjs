// Serves the Worker as `wrangler dev` does (the same wrangler.toml and custom build, local
// D1, Durable Objects and queues in workerd), but with no devtools inspector session.
// `wrangler dev` always attaches one and relays every subrequest's network events through
// its proxy to Node, four requests to Node per subrequest (object calls are RPC, no
// subrequests, but every D1 round trip is one); on the 2 shared cores here that relay
// competes with what a benchmark means to measure, and deployed Workers have no such
// session. For the
// benchmark (scripts/bench.sh, through start_server with OMNIEDGE_DEVTOOLS=off); develop
// with scripts/dev.sh.
//
// Usage: node scripts/serve-without-devtools.mjs --port N --persist-to DIR [--var NAME:VALUE]...
// It serves until SIGTERM or SIGINT.
import { unstable_startWorker } from "wrangler";

function parseArgs(argv) {
  const options = { vars: {} };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--port") options.port = Number(value);
    else if (flag === "--persist-to") options.persist = value;
    else if (flag === "--var") {
      const at = value.indexOf(":");
      if (at < 1) throw new Error(`--var takes NAME:VALUE, got "${value}"`);
      options.vars[value.slice(0, at)] = value.slice(at + 1);
    } else throw new Error(`unknown option ${flag}`);
  }
  if (!Number.isInteger(options.port) || !options.persist) throw new Error("--port and --persist-to are required");
  return options;
}

const options = parseArgs(process.argv.slice(2));
const worker = await unstable_startWorker({
  config: "wrangler.toml",
  bindings: Object.fromEntries(Object.entries(options.vars).map(([name, value]) => [name, { type: "plain_text", value }])),
  dev: { server: { hostname: "127.0.0.1", port: options.port }, inspector: false, persist: options.persist, watch: false },
});
await worker.ready;
console.log(`serving ${(await worker.url).href} without a devtools session`);
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    await worker.dispose();
    process.exit(0);
  });
}
