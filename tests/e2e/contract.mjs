// Contract checks for the end-to-end tests: every answer the worker gives is checked
// against schemas/openapi.json (the OpenAPI 3.1 document it also serves) with Ajv, so
// a drift between the worker and its documented contract fails the tests; and the
// document's verdict on a request body or query parameter, for the agreement suite.
// `node tests/e2e/contract.mjs` checks the document itself: valid JSON, every $ref
// resolves, every schema compiles in strict mode.

import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const DOCUMENT_URL = new URL("../../schemas/openapi.json", import.meta.url);
const DOCUMENT_ID = "openapi.json";
const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
// Top-level OpenAPI members: annotations to Ajv, so the whole document can be
// registered as one schema and its parts referenced by JSON pointer.
const OPENAPI_MEMBERS = [
  "openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components", "security", "tags", "externalDocs",
];
// OpenAPI keywords allowed inside schemas (`externalDocs` is in the list above;
// `discriminator` is understood by Ajv itself).
const OPENAPI_SCHEMA_KEYWORDS = ["example", "xml"];

/** The parsed OpenAPI document. */
export const openapi = loadDocument();

const ajv = new Ajv2020({ strict: true, allErrors: true, discriminator: true });
addFormats(ajv);
for (const keyword of [...OPENAPI_MEMBERS, ...OPENAPI_SCHEMA_KEYWORDS]) ajv.addKeyword(keyword);
ajv.addSchema(openapi, DOCUMENT_ID);

const validators = new Map();

function loadDocument() {
  const text = readFileSync(DOCUMENT_URL, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${DOCUMENT_URL.pathname} is not valid JSON: ${error.message}`);
  }
}

/** A JSON pointer (`/a/b`) from property names. */
function pointer(...parts) {
  return parts.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** The value at a JSON pointer in the document, or undefined. */
function at(ptr) {
  let node = openapi;
  for (const raw of ptr.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Follows local `$ref`s (responses, parameters, ...) to the object they name. */
function deref(ptr) {
  const seen = new Set();
  let node = at(ptr);
  while (node && typeof node.$ref === "string") {
    if (!node.$ref.startsWith("#/") || seen.has(node.$ref)) throw new Error(`cannot follow $ref ${node.$ref} at ${ptr}`);
    seen.add(node.$ref);
    ptr = node.$ref.slice(1);
    node = at(ptr);
  }
  if (node === undefined) throw new Error(`nothing at ${ptr} in ${DOCUMENT_ID}`);
  return { node, ptr };
}

/** The compiled validator for the schema at a JSON pointer in the document. */
function validator(ptr) {
  let validate = validators.get(ptr);
  if (!validate) {
    const fragment = ptr.split("/").map(encodeURIComponent).join("/");
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${fragment}` });
    validators.set(ptr, validate);
  }
  return validate;
}

/** Every operation in the document: `[{ method, path, operationId }]`, method upper-case. */
export function documentedOperations() {
  return Object.entries(openapi.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((m) => ({
      method: m.toUpperCase(),
      path,
      operationId: item[m].operationId,
    })),
  );
}

/** The document's verdict on a JSON request body for `method path`: [] when it accepts it, else why not. */
export function requestBodyErrors(method, path, body) {
  const operation = findOperation(method, path);
  const requestBody = deref(`${operation.ptr}/requestBody`);
  return verdict(`${requestBody.ptr}${pointer("content", "application/json", "schema")}`, body);
}

/** The document's verdict on the value of query parameter `name` of `method path`. */
export function parameterErrors(method, path, name, value) {
  const operation = findOperation(method, path);
  const params = [
    ...(openapi.paths[operation.template].parameters ?? []).map((_, i) => pointer("paths", operation.template, "parameters", i)),
    ...(at(operation.ptr).parameters ?? []).map((_, i) => `${operation.ptr}${pointer("parameters", i)}`),
  ].map(deref);
  const param = params.find(({ node }) => node.in === "query" && node.name === name);
  if (!param) throw new Error(`${method} ${path}: no query parameter ${name} is documented`);
  return verdict(`${param.ptr}/schema`, value);
}

function verdict(schemaPtr, value) {
  const validate = validator(schemaPtr);
  return validate(value) ? [] : validate.errors.map(describe);
}

/** The path part of `/v1/x?y` or `http://host/v1/x?y`. */
function pathname(path) {
  return /^https?:\/\//.test(path) ? new URL(path).pathname : path.split(/[?#]/)[0];
}

function matches(template, segments) {
  const parts = template.split("/");
  return (
    parts.length === segments.length &&
    parts.every((p, i) => (/^\{[^}]+\}$/.test(p) ? segments[i] !== "" : p === segments[i]))
  );
}

/** The operation serving `method path`: concrete templates win over templated ones. */
function findOperation(method, path) {
  const segments = pathname(path).split("/");
  const literals = (t) => t.split("/").filter((p) => !p.startsWith("{")).length;
  const candidates = Object.keys(openapi.paths)
    .filter((t) => matches(t, segments))
    .sort((a, b) => literals(b) - literals(a));
  if (candidates.length === 0) throw new Error(`${method} ${path}: the path is not documented in ${DOCUMENT_ID}`);
  const m = method.toLowerCase();
  const template = candidates.find((t) => openapi.paths[t][m]);
  if (!template) {
    const documented = candidates.flatMap((t) =>
      HTTP_METHODS.filter((x) => openapi.paths[t][x]).map((x) => `${x.toUpperCase()} ${t}`),
    );
    throw new Error(`${method} ${path}: the method is not documented (documented: ${documented.join(", ")})`);
  }
  return { template, ptr: pointer("paths", template, m) };
}

/** Checks a body against a schema in the document; returns the parsed body. */
function checkJson(where, text, schemaPtr) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${where}: the body is not JSON: ${snippet(text)}`);
  }
  const validate = validator(schemaPtr);
  if (!validate(body)) {
    const errors = validate.errors.map(describe).join("\n  ");
    throw new Error(`${where}: the body does not match ${schemaPtr}:\n  ${errors}\nbody: ${snippet(text)}`);
  }
  return body;
}

/** One Ajv error as `body/path message {params}`. */
function describe({ instancePath, keyword, message, params }) {
  if (keyword === "false schema") return `body${instancePath} is not allowed here`;
  const details = Object.keys(params).length > 0 ? ` ${JSON.stringify(params)}` : "";
  return `body${instancePath} ${message}${details}`;
}

function snippet(text) {
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

function mediaType(response) {
  return (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * Checks a fetch `Response` to `method path` against the documented operation: the status
 * must be documented (exactly, else `4XX`-style, else `default`), the content type must be
 * the documented one and the JSON body must match its schema; a problem document must
 * also agree with the response (see `checkProblemMembers`). Reads a clone, so the caller
 * can still read the body. Returns the parsed body, or null when none is documented.
 */
export async function checkResponse(method, path, response) {
  const where = `${method.toUpperCase()} ${path} -> ${response.status}`;
  const operation = findOperation(method, path);
  const responses = at(operation.ptr).responses ?? {};
  const status = String(response.status);
  const key = [status, `${status[0]}XX`, "default"].find((k) => Object.hasOwn(responses, k));
  if (!key) {
    const documented = Object.keys(responses).join(", ");
    throw new Error(`${where}: status ${status} is not documented for ${operation.template} (documented: ${documented})`);
  }
  const documented = deref(`${operation.ptr}${pointer("responses", key)}`);
  const text = await response.clone().text();
  const content = documented.node.content;
  if (!content || Object.keys(content).length === 0) {
    if (text !== "") throw new Error(`${where}: no body is documented, got: ${snippet(text)}`);
    return null;
  }
  const type = mediaType(response);
  if (!Object.hasOwn(content, type)) {
    const documented = Object.keys(content).join(", ");
    throw new Error(`${where}: content type ${JSON.stringify(type)} is not documented (documented: ${documented})`);
  }
  const body = checkJson(where, text, `${documented.ptr}${pointer("content", type, "schema")}`);
  if (type === "application/problem+json") checkProblemMembers(where, response.status, body);
  return body;
}

const PROBLEM_TYPE_BASE = "https://omniedge.dev/problems/";

/** What the schema cannot say of a problem: its `status` is the HTTP status, its `type` follows its `code`. */
function checkProblemMembers(where, status, body) {
  if (body.status !== status) throw new Error(`${where}: the problem says status ${body.status}`);
  const type = PROBLEM_TYPE_BASE + body.code.replaceAll("_", "-");
  if (body.type !== type) throw new Error(`${where}: the problem's type ${body.type} does not follow its code (${type})`);
}

/**
 * Checks an error answer that no operation documents (404 `not_found` for an unknown
 * route, 405 `method_not_allowed`): `application/problem+json` matching Problem
 * (MethodNotAllowedProblem for 405). Returns the parsed body.
 */
export async function checkProblem(method, path, response) {
  const where = `${method.toUpperCase()} ${path} -> ${response.status}`;
  const type = mediaType(response);
  if (type !== "application/problem+json") {
    throw new Error(`${where}: expected application/problem+json, got ${JSON.stringify(type)}`);
  }
  const schema = response.status === 405 ? "MethodNotAllowedProblem" : "Problem";
  const body = checkJson(where, await response.clone().text(), pointer("components", "schemas", schema));
  checkProblemMembers(where, response.status, body);
  return body;
}

/** Every local `$ref` in the document with the pointer where it occurs. */
function* references(node, ptr = "") {
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) yield* references(item, `${ptr}/${i}`);
  } else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") yield { ref: value, ptr };
      else yield* references(value, ptr + pointer(key));
    }
  }
}

/** Checks the document: refs resolve, operations are complete, every schema compiles. */
function selfCheck() {
  const problems = [];
  for (const { ref, ptr } of references(openapi)) {
    if (!ref.startsWith("#/") || at(ref.slice(1)) === undefined) problems.push(`unresolved $ref ${ref} at ${ptr}`);
  }
  const schemaPtrs = Object.keys(openapi.components?.schemas ?? {}).map((name) => pointer("components", "schemas", name));
  const operationIds = new Set();
  for (const { method, path, operationId } of documentedOperations()) {
    const opPtr = pointer("paths", path, method.toLowerCase());
    const operation = at(opPtr);
    if (!operationId || operationIds.has(operationId)) problems.push(`${method} ${path}: missing or duplicate operationId`);
    operationIds.add(operationId);
    if (!operation.summary) problems.push(`${method} ${path}: missing summary`);
    const params = [
      ...(openapi.paths[path].parameters ?? []).map((_, i) => pointer("paths", path, "parameters", i)),
      ...(operation.parameters ?? []).map((_, i) => `${opPtr}${pointer("parameters", i)}`),
    ].map(deref);
    for (const { node, ptr } of params) if (node.schema) schemaPtrs.push(`${ptr}/schema`);
    const declared = params.filter(({ node }) => node.in === "path").map(({ node }) => node.name);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    if (templated.sort().join() !== declared.sort().join()) {
      problems.push(`${method} ${path}: path parameters ${declared} do not match the template`);
    }
    const requestBody = operation.requestBody && deref(`${opPtr}/requestBody`);
    for (const type of Object.keys(requestBody?.node.content ?? {})) {
      schemaPtrs.push(`${requestBody.ptr}${pointer("content", type, "schema")}`);
    }
    for (const status of Object.keys(operation.responses ?? {})) {
      const { node, ptr } = deref(`${opPtr}${pointer("responses", status)}`);
      for (const type of Object.keys(node.content ?? {})) {
        schemaPtrs.push(`${ptr}${pointer("content", type, "schema")}`);
        if (/^[45]/.test(status) && type !== "application/problem+json") {
          problems.push(`${method} ${path} ${status}: errors must be application/problem+json`);
        }
      }
    }
  }
  for (const ptr of new Set(schemaPtrs)) {
    try {
      validator(ptr);
    } catch (error) {
      problems.push(`${ptr}: ${error.message}`);
    }
  }
  if (problems.length > 0) throw new Error(`${DOCUMENT_ID} has problems:\n  ${problems.join("\n  ")}`);
  return { operations: operationIds.size, schemas: new Set(schemaPtrs).size };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { operations, schemas } = selfCheck();
    console.log(`${DOCUMENT_ID}: ${operations} operations, ${schemas} schemas compiled`);
  } catch (error) {
    console.error(error.message);
    process.exitCode = 1;
  }
}
