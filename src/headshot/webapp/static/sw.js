// Service worker: the app shell works offline. API answers are never cached (they hold personal
// data); the shell is served from the cache when the network is away.
const VERSION = "headshot-shell-v2";
const SHELL = [
  "/",
  "/manifest.webmanifest",
  "/app/app.css",
  "/app/js/main.js",
  "/app/js/router.js",
  "/app/js/words.js",
  "/app/js/api.js",
  "/app/js/dom.js",
  "/app/js/events.js",
  "/app/js/filenames.js",
  "/app/js/images.js",
  "/app/js/queue.js",
  "/app/js/views/account.js",
  "/app/js/views/auth.js",
  "/app/js/views/batch.js",
  "/app/js/views/photos.js",
  "/app/js/views/training.js",
  "/app/js/views/batches.js",
  "/app/js/views/gallery.js",
  "/app/js/views/looks.js",
  "/app/js/views/operator.js",
  "/app/icons/icon-192.png",
  "/app/icons/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== VERSION).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/s/")) return;
  if (event.request.mode === "navigate") {
    // Network first, so a new version shows at once; the cached shell when offline.
    event.respondWith(fetch(event.request).catch(() => caches.match("/")));
    return;
  }
  if (url.pathname.startsWith("/app/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(fetch(event.request)
      .then((response) => {
        const copy = response.clone();
        if (response.ok) caches.open(VERSION).then((cache) => cache.put(event.request, copy));
        return response;
      })
      .catch(() => caches.match(event.request)));
  }
});

// Web Push: the server sends {title, body} when a model or headshots are ready.
self.addEventListener("push", (event) => {
  let message = {};
  try { message = event.data ? event.data.json() : {}; } catch (_) { message = { body: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(message.title || "Headshot", {
    body: message.body || "",
    icon: "/app/icons/icon-192.png",
    data: { url: "/#/" },
  }));
});

// A tap on the notification brings an open window of the app forward, or opens one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    const open = windows.find((w) => new URL(w.url).origin === self.location.origin);
    if (open) return open.focus().then((w) => (w && w.navigate ? w.navigate(target) : w));
    return self.clients.openWindow(target);
  }));
});
