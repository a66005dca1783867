// omniedge cart reminders: the subscribe snippet for a storefront page (an ES module the
// storefront hosts next to omniedge-sw.js). Call it when the shopper opts in (a click:
// browsers ask for notification permission only after a user gesture):
//
//   import { enableCartReminders } from "/omniedge-reminders.js";
//   button.onclick = () => enableCartReminders({
//     api: "https://api.example", publishableKey: "oe_pub_…", cartId, cartToken, device: "web" });
//
// It registers the service worker, subscribes with the VAPID key the API serves and
// registers the subscription for the cart (the cart token, or the shopper's session for
// a logged-in shopper's cart). Registering records push consent for the cart.

/** The headers a publishable key calls a cart with. */
function cartHeaders({ publishableKey, cartToken, shopperToken }) {
  return {
    authorization: `Bearer ${publishableKey}`,
    ...(cartToken ? { "x-cart-token": cartToken } : {}),
    ...(shopperToken ? { "x-shopper-token": shopperToken } : {}),
  };
}

async function answer(response) {
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(`${response.status} ${body.code}: ${body.detail}`), { problem: body });
  return body;
}

/** Registers a `PushSubscription` (or its JSON) for the cart; answers the stored subscription. */
export async function registerSubscription({ api, cartId, subscription, device, ...credentials }) {
  const json = typeof subscription.toJSON === "function" ? subscription.toJSON() : subscription;
  const response = await fetch(`${api}/v1/carts/${encodeURIComponent(cartId)}/push-subscriptions`, {
    method: "POST",
    headers: { ...cartHeaders(credentials), "content-type": "application/json" },
    body: JSON.stringify({ subscription: json, ...(device ? { device } : {}) }),
  });
  return answer(response);
}

/** Asks for permission, subscribes this browser and registers it for the cart. */
export async function enableCartReminders({ api, publishableKey, cartId, cartToken, shopperToken, device, serviceWorker = "/omniedge-sw.js" }) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return { enabled: false, reason: "unsupported" };
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return { enabled: false, reason: permission };
  const registration = await navigator.serviceWorker.register(serviceWorker);
  await navigator.serviceWorker.ready;
  const credentials = { publishableKey, cartToken, shopperToken };
  const { public_key } = await answer(await fetch(`${api}/v1/reminders/vapid-public-key`, { headers: cartHeaders(credentials) }));
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: public_key }));
  const stored = await registerSubscription({ api, cartId, subscription, device, ...credentials });
  return { enabled: true, subscription: stored };
}
