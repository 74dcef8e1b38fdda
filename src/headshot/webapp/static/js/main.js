// The app shell: who is signed in, the hash router, the online indicator, the service worker.
import { get } from "./api.js";
import { render, errorBox, empty } from "./dom.js";
import * as events from "./events.js";
import { pending, pump } from "./queue.js";
import { accountView, erasedView } from "./views/account.js";
import { signInView, consentView } from "./views/auth.js";
import { batchView } from "./views/batch.js";
import { batchesView } from "./views/batches.js";
import { galleryView } from "./views/gallery.js";
import { looksView } from "./views/looks.js";

const ROUTES = [
  [/^#\/signin$/, signInView, { open: true }],
  [/^#\/erased$/, erasedView, { open: true }],
  [/^#\/consent$/, consentView, { consent: false }],
  [/^#\/batch\/([\w-]+)$/, batchView, { tab: "batches" }],
  [/^#\/looks\/([\w-]+)$/, looksView, { tab: "batches" }],
  [/^#\/gallery(?:\?.*)?$/, galleryView, { tab: "gallery" }],
  [/^#\/account$/, accountView, { tab: "account" }],
  [/^#?\/?$/, batchesView, { tab: "batches" }],
];

export const app = { me: null, cleanup: null };

export async function refreshMe() {
  try {
    app.me = await get("/me");
  } catch (error) {
    if (error.status === 401) app.me = null;
    else throw error;
  }
  return app.me;
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  if (app.cleanup) { app.cleanup(); app.cleanup = null; }
  const hash = location.hash || "#/";
  const found = ROUTES.find(([p]) => p.test(hash));
  if (!found) { go("#/"); return; }
  const [pattern, view, options] = found;
  const params = hash.match(pattern).slice(1);
  const tabs = document.getElementById("tabs");
  try {
    if (!options.open) {
      if (!app.me && !(await refreshMe())) { go("#/signin"); return; }
      if (options.consent !== false && !app.me.consent_given) { go("#/consent"); return; }
      events.connect();
      pump();
    }
    tabs.hidden = !options.tab;
    for (const link of tabs.querySelectorAll("a")) {
      if (link.dataset.tab === options.tab) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    app.cleanup = (await view(...params)) || null;
    document.getElementById("view").focus({ preventScroll: true });
  } catch (error) {
    if (error.status === 0) {
      const waiting = (await pending()).length;
      render(empty("You are offline", waiting
        ? waiting + " photo(s) are kept on this phone and upload when you are back online."
        : "Headshot needs a connection for this page. It reloads by itself when you are back."));
    } else {
      render(errorBox(error));
    }
  }
}

function showNetwork() {
  const badge = document.getElementById("network");
  badge.textContent = navigator.onLine ? "Online" : "Offline";
  badge.classList.toggle("offline", !navigator.onLine);
}

window.addEventListener("hashchange", route);
window.addEventListener("online", () => { showNetwork(); route(); });
window.addEventListener("offline", showNetwork);
showNetwork();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js");
route();
