// omniedge cart reminders: the service worker a storefront hosts on its own origin
// (e.g. https://shop.example/omniedge-sw.js). It shows the reminder a push carries
// (title, body, icon; one per cart, by tag), reports "shown" to the API, and on a click
// opens the reminder's tracked link, which records the click and leads to the cart.
// The push payload is JSON: { title, body, url, icon?, tag, shown_url }.

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let reminder;
  try {
    reminder = event.data?.json();
  } catch {
    return;
  }
  if (!reminder?.title) return;
  event.waitUntil(
    (async () => {
      await self.registration.showNotification(reminder.title, {
        body: reminder.body,
        icon: reminder.icon,
        tag: reminder.tag,
        data: { url: reminder.url },
      });
      // A simple request (no preflight, no credentials): the token in the URL is the proof.
      await fetch(reminder.shown_url, { method: "POST", mode: "no-cors", credentials: "omit" }).catch(() => {});
    })(),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = event.notification.data?.url;
  if (!url) return;
  event.waitUntil(
    (async () => {
      // Reuse an open tab of the shop when there is one, else open a new one.
      const [tab] = await self.clients.matchAll({ type: "window", includeUncontrolled: false });
      if (tab) {
        await tab.focus().catch(() => {});
        return tab.navigate(url);
      }
      return self.clients.openWindow(url);
    })(),
  );
});
