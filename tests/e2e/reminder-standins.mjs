// Stand-ins for the services outside omniedge that reminders talk to, as strict as the
// real ones: a Web Push service (RFC 8030/8291/8292) that verifies the VAPID JWT's ES256
// signature with the public key the API serves, its claims (aud = this service's origin,
// exp within 24 h, sub a mailto: or https: contact) and the TTL/Urgency/Topic headers,
// and DECRYPTS the aes128gcm payload with the subscription's own private key (node:crypto
// ECDH + HKDF + AES-GCM, independent of the worker's Rust crates); and an HTTP email API
// that validates requests like Resend (bearer token, JSON, from/to/subject/html|text,
// string headers). Both can be told how to answer the next requests.
import crypto from "node:crypto";
import http from "node:http";

const b64u = (buf) => Buffer.from(buf).toString("base64url");
const unb64u = (text) => Buffer.from(text, "base64url");

function listen(port, handler) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => handler(req, Buffer.concat(chunks), res));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/** The uncompressed P-256 point of a VAPID or subscription public key, as a KeyObject. */
function publicKeyFromPoint(point) {
  const raw = unb64u(point);
  if (raw.length !== 65 || raw[0] !== 4) throw new Error("not an uncompressed P-256 point");
  return crypto.createPublicKey({ key: { kty: "EC", crv: "P-256", x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33)) }, format: "jwk" });
}

/** Verifies `Authorization: vapid t=<jwt>, k=<key>` (RFC 8292); returns the claims or throws. */
function verifyVapid(header, servedKey, origin) {
  const match = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(header ?? "");
  if (!match) throw new Error(`Authorization is not "vapid t=..., k=...": ${header}`);
  const [, jwt, k] = match;
  if (k !== servedKey) throw new Error("k is not the VAPID public key the API serves");
  const [h, c, s] = jwt.split(".");
  const jwtHeader = JSON.parse(unb64u(h));
  if (jwtHeader.alg !== "ES256") throw new Error(`alg is ${jwtHeader.alg}, not ES256`);
  const ok = crypto.verify("sha256", Buffer.from(`${h}.${c}`), { key: publicKeyFromPoint(k), dsaEncoding: "ieee-p1363" }, unb64u(s));
  if (!ok) throw new Error("the VAPID signature does not verify");
  const claims = JSON.parse(unb64u(c));
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== origin) throw new Error(`aud is ${claims.aud}, not ${origin}`);
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600)) throw new Error(`exp ${claims.exp} is not within 24 h`);
  if (!/^(mailto:[^@\s]+@[^@\s]+\.[a-z]+|https:\/\/.+)$/.test(claims.sub ?? "")) throw new Error(`sub ${claims.sub} is not a mailto: or https: contact`);
  return claims;
}

/** Decrypts an RFC 8291 aes128gcm body for a subscription (`ecdh`, `auth`). */
function decrypt(body, { ecdh, auth, publicKey }) {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (idlen !== 65) throw new Error(`keyid is ${idlen} bytes, not the 65-byte sender key`);
  if (ciphertext.length > rs) throw new Error("more than one record");
  const shared = ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0"), publicKey, asPublic]);
  const ikm = Buffer.from(crypto.hkdfSync("sha256", shared, auth, keyInfo, 32));
  const cek = Buffer.from(crypto.hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0"), 16));
  const nonce = Buffer.from(crypto.hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0"), 12));
  const decipher = crypto.createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error("the last record does not end with the 0x02 delimiter");
  return padded.subarray(0, end);
}

/**
 * A push service on `port`. `subscribe()` makes a browser-like subscription (a fresh
 * P-256 key pair and auth secret) whose endpoint is here; `answer(id, ...statuses)`
 * queues answers for it (201 once they run out; a status may be `[429, {"retry-after": "1"}]`);
 * `received(id)` lists what it accepted or refused: `{ at, status, payload, claims, headers, error }`.
 */
export async function pushService(port, vapidPublicKey) {
  const origin = `http://127.0.0.1:${port}`;
  const subscriptions = new Map();
  const server = await listen(port, (req, body, res) => {
    const id = /^\/push\/([a-z0-9-]+)$/.exec(req.url)?.[1];
    const sub = subscriptions.get(id);
    if (req.method !== "POST" || !sub) {
      res.writeHead(404).end();
      return;
    }
    const entry = { at: Date.now(), headers: req.headers };
    try {
      entry.claims = verifyVapid(req.headers.authorization, vapidPublicKey, origin);
      if (!/^\d+$/.test(req.headers.ttl ?? "")) throw new Error(`TTL is ${req.headers.ttl}`);
      if (!["very-low", "low", "normal", "high"].includes(req.headers.urgency)) throw new Error(`Urgency is ${req.headers.urgency}`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(req.headers.topic ?? "")) throw new Error(`Topic is ${req.headers.topic}`);
      if (req.headers["content-encoding"] !== "aes128gcm") throw new Error(`Content-Encoding is ${req.headers["content-encoding"]}`);
      if (body.length > 4096) throw new Error(`the body is ${body.length} bytes, over 4096`);
      entry.payload = JSON.parse(decrypt(body, sub).toString("utf8"));
    } catch (e) {
      entry.error = e.message;
      entry.status = 400;
      sub.received.push(entry);
      res.writeHead(400).end(e.message);
      return;
    }
    const next = sub.answers.shift() ?? 201;
    const [status, headers] = Array.isArray(next) ? next : [next, {}];
    entry.status = status;
    sub.received.push(entry);
    res.writeHead(status, headers).end();
  });
  return {
    close: () => new Promise((r) => server.close(r)),
    subscribe() {
      const id = crypto.randomUUID();
      const ecdh = crypto.createECDH("prime256v1");
      const publicKey = ecdh.generateKeys();
      const auth = crypto.randomBytes(16);
      subscriptions.set(id, { ecdh, auth, publicKey, answers: [], received: [] });
      return { id, json: { endpoint: `${origin}/push/${id}`, expirationTime: null, keys: { p256dh: b64u(publicKey), auth: b64u(auth) } } };
    },
    answer(id, ...statuses) {
      subscriptions.get(id).answers.push(...statuses);
    },
    received: (id) => subscriptions.get(id).received,
  };
}

const EMAIL = /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/;
const address = (text) => (EMAIL.test(text) ? text : /<([^<>]+)>$/.exec(text)?.[1]);

/**
 * An HTTP email API like Resend's `POST /emails` on `port`, for `token`: 401 without a
 * bearer token, 403 with another, 422 for a body Resend would refuse; otherwise 200
 * `{ id }`, or what `answer(...)` queued. `sent()` lists the accepted messages.
 */
export async function emailApi(port, token) {
  const sent = [];
  const refused = [];
  const answers = [];
  const server = await listen(port, (req, body, res) => {
    const reply = (status, json, headers = {}) => res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(json));
    if (req.method !== "POST" || req.url !== "/emails") return reply(404, { name: "not_found" });
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer) return reply(401, { name: "missing_api_key" });
    if (bearer !== token) return reply(403, { name: "invalid_api_key" });
    if (!(req.headers["content-type"] ?? "").startsWith("application/json")) return reply(422, { name: "validation_error", message: "content-type" });
    let mail;
    try {
      mail = JSON.parse(body);
    } catch {
      return reply(422, { name: "validation_error", message: "not JSON" });
    }
    const to = Array.isArray(mail.to) ? mail.to : [mail.to];
    const problems = [
      typeof mail.from === "string" && address(mail.from) ? null : "from",
      to.length >= 1 && to.length <= 50 && to.every((t) => typeof t === "string" && EMAIL.test(t)) ? null : "to",
      typeof mail.subject === "string" && mail.subject.length > 0 ? null : "subject",
      typeof mail.html === "string" || typeof mail.text === "string" ? null : "html or text",
      mail.headers === undefined || Object.values(mail.headers).every((v) => typeof v === "string") ? null : "headers",
    ].filter(Boolean);
    if (problems.length) {
      refused.push({ mail, problems });
      return reply(422, { name: "validation_error", message: `invalid: ${problems.join(", ")}` });
    }
    const next = answers.shift();
    if (next) {
      const [status, headers] = Array.isArray(next) ? next : [next, {}];
      return reply(status, { name: "scripted" }, headers);
    }
    const id = crypto.randomUUID();
    sent.push({ id, mail, idempotencyKey: req.headers["idempotency-key"], at: Date.now() });
    return reply(200, { id });
  });
  return {
    close: () => new Promise((r) => server.close(r)),
    sent: () => sent,
    refused: () => refused,
    answer: (...statuses) => answers.push(...statuses),
  };
}
