// Shared state and navigation: who is signed in, the server's settings, and the hash router.
// Views import this module; it imports no view (the entry module, main.js, hands it the routes).
import { get } from "./api.js";
import { h, render, errorBox, empty } from "./dom.js";
import * as events from "./events.js";
import { pending, pump } from "./queue.js";
import { plural } from "./words.js";

export const app = { me: null, config: null, cleanup: null };
let routes = [];

// Counts the app shows (photos needed, looks at most) come from the server's settings.
const FALLBACK_CONFIG = { min_photos: null, images_per_look_max: 4, looks_max: 12, signup: "open", email_verification: "off" };

export async function loadConfig() {
  if (app.config) return app.config;
  try {
    app.config = { ...FALLBACK_CONFIG, ...(await get("/config")) };
  } catch (error) {
    if (error.status === 0) throw error;
    app.config = { ...FALLBACK_CONFIG };  // an older server without /config
  }
  return app.config;
}

export async function refreshMe() {
  try {
    app.me = await get("/me");
  } catch (error) {
    if (error.status === 401) app.me = null;
    else throw error;
  }
  return app.me;
}

// A move the person asked for: a new history entry.
export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// A move the app decided (sign-in done, not signed in, consent given): it replaces the current
// entry, so the back button never returns to a page that would only redirect again.
export function redirect(hash) {
  history.replaceState(history.state, "", hash);
  route();
}

export function signedOut() {
  events.disconnect();
  app.me = null;
}

function markTab(tab) {
  const tabs = document.getElementById("tabs");
  tabs.hidden = !tab;
  for (const link of tabs.querySelectorAll("a")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function offlinePage() {
  const waiting = (await pending()).length;
  const retry = h("button", { type: "button", class: "wide" }, "Try again");
  retry.addEventListener("click", () => { pump(); route(); });
  render(empty("You are offline", waiting
    ? plural(waiting, "photo is", "photos are") + " kept on this phone and upload when you are back online."
    : "Headshot needs a connection for this page. It reloads by itself when you are back."), retry);
}

// Returns false when the route sent the person elsewhere.
async function admit(options) {
  if (options.open) return true;
  if (options.guest) {
    // A signed-in person who comes back here (the back button, an old link) goes to the app.
    if (app.me || await refreshMe()) { redirect("#/"); return false; }
    return true;
  }
  if (!app.me && !(await refreshMe())) { redirect("#/signin"); return false; }
  events.connect();
  pump();
  return true;
}

export async function route() {
  if (app.cleanup) { app.cleanup(); app.cleanup = null; }
  const hash = location.hash || "#/";
  const found = routes.find(([p]) => p.test(hash));
  if (!found) { redirect("#/"); return; }
  const [pattern, view, options] = found;
  const params = hash.match(pattern).slice(1);
  try {
    await loadConfig();
    if (!(await admit(options))) return;
    markTab(options.tab);
    app.cleanup = (await view(...params)) || null;
    document.getElementById("view").focus({ preventScroll: true });
    window.scrollTo(0, 0);
  } catch (error) {
    if (error.status === 0) await offlinePage();
    else render(errorBox(error));
  }
}

export function start(table) {
  routes = table;
  window.addEventListener("hashchange", route);
  window.addEventListener("online", route);
  route();
}
