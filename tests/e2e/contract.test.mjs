// The routes against the OpenAPI document: every documented operation is served (no
// 404 not_found, no 405), every documented path refuses the methods it does not document
// with 405 and an Allow header listing exactly the documented ones (also methods outside
// the common five: WebDAV, QUERY, PURGE, HEAD, whatever token reaches the worker, sent
// on a raw socket as written), paths the document does not know are 404 not_found, and
// the document the worker serves is the one the tests check against. Every answer here
// also goes through the contract check (`call`, `checkProblem`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { checkProblem, documentedOperations, openapi } from "./contract.mjs";
import { ADMIN, BASE, call, expectProblem, expectStatus, uid } from "./api.mjs";

const METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH"];
const operations = documentedOperations();
const templates = [...new Set(operations.map((o) => o.path))];

/** A concrete path for a template: `{action}` becomes a real action, other parameters placeholders. */
const concrete = (template) =>
  template.replace("{action}", "cancel").replace(/\{([^}]+)\}/g, (_, name) => `placeholder-${name.replaceAll("_", "-")}-${uid()}`);

/** Whether a documented template serves a concrete path (a parameter is any one segment). */
const serves = (template, path) => {
  const [t, p] = [template.split("/"), path.split("/")];
  return t.length === p.length && t.every((part, i) => /^\{.+\}$/.test(part) || part === p[i]);
};

/** Every method the document gives for the templates that serve a concrete path. */
const documentedMethods = (path) =>
  [...new Set(operations.filter((o) => serves(o.path, path)).map((o) => o.method))].sort();

const hasBody = (method) => method !== "GET" && method !== "DELETE";

test("every documented operation is served", async () => {
  const unserved = [];
  for (const { method, path } of operations) {
    const answer = await call(method, concrete(path), hasBody(method) ? { body: {} } : {});
    if (answer.status === 405 || (answer.status === 404 && answer.json?.code === "not_found")) {
      unserved.push(`${method} ${path} -> ${answer.status} ${answer.json?.code}`);
    }
  }
  assert.deepEqual(unserved, [], "operations the worker does not route");
});

test("every documented path refuses undocumented methods with 405 and the documented Allow", async () => {
  const wrong = [];
  for (const template of templates) {
    const path = concrete(template);
    const allowed = documentedMethods(path);
    for (const method of METHODS.filter((m) => !allowed.includes(m))) {
      let answer;
      try {
        answer = await call(method, path, hasBody(method) ? { body: {} } : {});
      } catch (error) {
        wrong.push(`${method} ${template}: ${error.message.split("\n").slice(0, 2).join(" ")}`);
        continue;
      }
      const allow = (answer.headers.get("allow") ?? "").split(",").map((m) => m.trim()).filter(Boolean).sort();
      if (answer.status !== 405 || allow.join() !== allowed.join() || [...(answer.json?.allow ?? [])].sort().join() !== allowed.join()) {
        wrong.push(`${method} ${template} -> ${answer.status}, Allow: ${allow}, allow: ${answer.json?.allow} (documented: ${allowed})`);
      }
    }
  }
  assert.deepEqual(wrong, [], "wrong methods not answered 405 with the documented Allow");
});

/**
 * Sends `method path` on a socket exactly as written (fetch forbids TRACE and upper-cases
 * some tokens, node:http upper-cases all) and answers a fetch `Response`.
 */
function rawRequest(method, path) {
  const { hostname, port } = new URL(BASE);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.end(`${method} ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${ADMIN}\r\nConnection: close\r\n\r\n`);
    });
    const chunks = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [head, ...rest] = text.split("\r\n\r\n");
      const [statusLine, ...lines] = head.split("\r\n");
      const headers = new Headers(lines.map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]));
      const status = Number(statusLine.split(" ")[1]);
      resolve(new Response(method === "HEAD" ? null : rest.join("\r\n\r\n"), { status, headers }));
    });
  });
}

const allowOf = (response) => (response.headers.get("allow") ?? "").split(",").map((m) => m.trim()).filter(Boolean).sort();

test("methods beyond the common five are 405 with the documented Allow, never served as GET", async () => {
  // Tokens workerd passes on to the worker; HEAD's answer has no body.
  const tokens = ["QUERY", "PROPFIND", "SEARCH", "COPY", "LOCK", "UNLOCK", "PURGE", "MKCOL", "MOVE", "REPORT", "OPTIONS", "TRACE", "HEAD"];
  const wrong = [];
  for (const template of templates) {
    const path = concrete(template);
    const allowed = documentedMethods(path);
    for (const method of tokens) {
      const response = await rawRequest(method, path);
      if (response.status !== 405 || allowOf(response).join() !== allowed.join()) {
        wrong.push(`${method} ${template} -> ${response.status}, Allow: ${allowOf(response)} (documented: ${allowed})`);
        continue;
      }
      if (method === "HEAD") continue;
      const problem = await checkProblem(method, path, response);
      if ([...problem.allow].sort().join() !== allowed.join()) wrong.push(`${method} ${template}: allow ${problem.allow}`);
    }
  }
  assert.deepEqual(wrong, [], "methods served or not answered 405 with the documented Allow");
});

test("method tokens are case-sensitive and unknown ones are never served", async () => {
  // workerd answers 501 to tokens it does not know before the worker sees them; any that
  // reached the worker would be 405 like the rest. Lower-case `get` is not GET (RFC 9110).
  const cart = `placeholder-cart-${uid()}`;
  const cases = [["get", "/v1/health"], ["Get", "/v1/locations"], ["patch", `/v1/carts/${cart}`], ["FOO", "/v1/health"], ["BREW", "/v1/locations"]];
  const served = [];
  for (const [method, path] of cases) {
    const response = await rawRequest(method, path);
    if (response.status === 405) await checkProblem(method, path, response);
    else if (response.status !== 501) served.push(`${method} ${path} -> ${response.status}`);
  }
  assert.deepEqual(served, []);
});

test("paths the document does not know are 404 not_found problems", async () => {
  const undocumented = [
    "/", "/v1", "/v1/", "/v2/health", "/v1/healthz", "/v1/warehouses", "/v1/stock", "/v1/stock/SKU-1/history",
    "/v1/stock/SKU-1/style/extra", "/v1/locations/x/stock", "/v1/locations/a/b/c", "/v1/products/x/variants",
    "/v1/api-keys/x/secret", "/v1/orders/x/cancel/now",
  ];
  for (const path of undocumented) {
    assert.ok(!templates.some((t) => serves(t, path.replace(/\/$/, ""))), `${path} is not documented`);
    expectProblem(await call("GET", path), 404, "not_found", path);
    expectProblem(await call("POST", path, { body: {} }), 404, "not_found", `POST ${path}`);
  }
});

test("the worker serves the OpenAPI document the tests check against", async () => {
  assert.deepEqual(expectStatus(await call("GET", "/v1/openapi.json"), 200), openapi);
});
