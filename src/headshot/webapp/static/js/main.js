// The entry module: it only boots (the routes, the online badge, the service worker).
import { start } from "./router.js";
import { accountView, erasedView, withdrawnView } from "./views/account.js";
import { signInView, signUpView, consentView, forgotView, resetView, verifyView } from "./views/auth.js";
import { batchView } from "./views/batch.js";
import { batchesView } from "./views/batches.js";
import { galleryView } from "./views/gallery.js";
import { looksView } from "./views/looks.js";
import { operatorView } from "./views/operator.js";

// [pattern, view, {open: anyone, guest: only signed out, tab: the tab it belongs to}]
const ROUTES = [
  [/^#\/signin$/, signInView, { guest: true }],
  [/^#\/signup(?:\?invite=([\w.~%-]+))?$/, signUpView, { guest: true }],
  [/^#\/forgot$/, forgotView, { guest: true }],
  [/^#\/reset\?token=([\w.~-]+)$/, resetView, { open: true }],
  [/^#\/verify\?token=([\w.~-]+)$/, verifyView, { open: true }],
  [/^#\/erased$/, erasedView, { open: true }],
  [/^#\/consent$/, consentView, {}],
  [/^#\/withdrawn$/, withdrawnView, { tab: "account" }],
  [/^#\/batch\/([\w-]+)$/, batchView, { tab: "batches" }],
  [/^#\/looks\/([\w-]+)$/, looksView, { tab: "batches" }],
  [/^#\/gallery(?:\?.*)?$/, galleryView, { tab: "gallery" }],
  [/^#\/account$/, accountView, { tab: "account" }],
  [/^#\/operator$/, operatorView, { tab: "account" }],
  [/^#?\/?$/, batchesView, { tab: "batches" }],
];

function showNetwork() {
  const badge = document.getElementById("network");
  badge.textContent = navigator.onLine ? "Online" : "Offline";
  badge.classList.toggle("offline", !navigator.onLine);
}

window.addEventListener("online", showNetwork);
window.addEventListener("offline", showNetwork);
showNetwork();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js");
start(ROUTES);
