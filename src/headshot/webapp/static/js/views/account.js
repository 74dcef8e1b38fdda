// The account page: consent, export, notifications, the operator's page, password, email verification, API tokens, sign out and
// erasure (with its receipt). All of it works without consent; only new processing needs it.
import { api, get, post, del } from "../api.js";
import { h, render, errorBox, busy, toast } from "../dom.js";
import { app, go, redirect, refreshMe, signedOut } from "../router.js";
import { countWords } from "../words.js";
import { signOut } from "./auth.js";

function exportButton() {
  return h("a", { class: "button secondary wide", href: "/api/v1/me/export", download: "" }, "Download all my data");
}

function signOutButton() {
  const button = h("button", { type: "button", class: "secondary" }, "Sign out");
  button.addEventListener("click", () => signOut().catch((error) => toast(error.message)));
  return button;
}

// Erasure behind a typed confirmation; `id` keeps two copies apart in one page.
function erasePanel(me) {
  const problem = h("div");
  const confirmation = h("input", { id: "erase-confirm", type: "email", autocomplete: "off" });
  const erase = h("button", { type: "button", class: "danger wide", disabled: true }, "Erase my account");
  confirmation.addEventListener("input", () => { erase.disabled = confirmation.value.trim().toLowerCase() !== me.email.toLowerCase(); });
  erase.addEventListener("click", async () => {
    try {
      const receipt = await busy(erase, "Erasing…", () => del("/me"));
      signedOut();
      sessionStorage.setItem("headshot-receipt", JSON.stringify(receipt));
      redirect("#/erased");
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  return h("section", { class: "card stack", "aria-labelledby": "erase-title" },
    h("h2", { id: "erase-title" }, "Erase everything"),
    h("p", { class: "small" }, "This deletes your account, photos, models and headshots here at once, " +
      "and asks the AI provider to delete its copies. It cannot be undone. You get a receipt."),
    h("div", {}, h("label", { for: "erase-confirm" }, "Type your email to confirm"), confirmation),
    problem, erase);
}

function tokenRow(t, refresh) {
  const revoke = h("button", { type: "button", class: "ghost", "aria-label": "Revoke " + t.name }, "Revoke");
  revoke.addEventListener("click", async () => { await del("/auth/tokens/" + t.id); refresh(); });
  return h("li", { class: "row spread" },
    h("span", { class: "grow" }, h("strong", {}, t.name), " ", h("span", { class: "small muted" }, t.prefix + "… · " + t.scopes.join(", "))),
    revoke);
}

function issued(made) {
  const copy = h("button", { type: "button", class: "secondary" }, "Copy token");
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(made.token); copy.textContent = "Copied"; } catch (_) { toast("Select the token and copy it."); }
  });
  return h("div", { class: "stack small" }, h("p", {}, "Copy it now; it is not shown again."),
    h("code", { class: "receipt" }, made.token), copy);
}

async function tokensCard() {
  const { tokens } = await get("/auth/tokens");
  const live = tokens.filter((t) => !t.revoked);
  const shown = h("div");
  const card = h("section", { class: "card stack", "aria-labelledby": "tokens-title" });
  async function refresh(keep) {
    const fresh = await tokensCard();
    if (keep) fresh.append(keep);
    card.replaceWith(fresh);
  }
  const name = h("input", { id: "token-name", type: "text", maxlength: "100" });
  const write = h("input", { id: "token-write", type: "checkbox" });
  const create = h("button", { type: "submit", class: "secondary" }, "Create token");
  card.append(h("h2", { id: "tokens-title" }, "API tokens"),
    h("p", { class: "small muted" }, "For scripts and integrations. A token is shown once."),
    live.length ? h("ul", { class: "list" }, live.map((t) => tokenRow(t, () => refresh()))) : h("p", { class: "small muted" }, "No tokens yet."),
    h("form", { class: "stack", onsubmit: async (e) => {
      e.preventDefault();
      const made = await busy(create, "Creating…", () => post("/auth/tokens", { name: name.value || "token", scopes: write.checked ? ["read", "write"] : ["read"] }));
      shown.replaceChildren(issued(made));
      refresh(shown);
    } }, h("div", {}, h("label", { for: "token-name" }, "Token name"), name),
    h("label", { class: "check", for: "token-write" }, write, "Allow changes (write)"), create), shown);
  return card;
}

function passwordCard() {
  const current = h("input", { id: "current-password", type: "password", autocomplete: "current-password" });
  const fresh = h("input", { id: "new-password", type: "password", autocomplete: "new-password" });
  const problem = h("div");
  const save = h("button", { type: "submit", class: "secondary" }, "Change password");
  const form = h("form", { class: "card stack", "aria-labelledby": "password-title", onsubmit: async (e) => {
    e.preventDefault();
    problem.replaceChildren();
    try {
      await busy(save, "Saving…", () => post("/me/password", { current_password: current.value, new_password: fresh.value }));
      current.value = fresh.value = "";
      problem.replaceChildren(h("p", { role: "status" }, "Your password is changed."));
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  } },
  h("h2", { id: "password-title" }, "Password"),
  h("div", {}, h("label", { for: "current-password" }, "Current password"), current),
  h("div", {}, h("label", { for: "new-password" }, "New password (at least " + (app.config.min_password_length || 10) + " characters)"), fresh),
  problem, save);
  return form;
}

function verificationNote(me) {
  if (me.email_verified !== false || app.config.email_verification === "off") return null;
  const resend = h("button", { type: "button", class: "secondary" }, "Send the confirmation email again");
  resend.addEventListener("click", async () => {
    try { await busy(resend, "Sending…", () => post("/me/email/verification")); toast("Sent. Check your inbox."); } catch (error) { toast(error.message); }
  });
  return h("div", { class: "notice stack" }, h("p", { class: "small" }, "Your email address is not confirmed yet."), resend);
}

function consentCard(me) {
  if (!me.consent_given) {
    return h("div", { class: "stack" },
      h("p", { class: "small" }, "You have not given consent: nothing of yours is processed."),
      h("a", { class: "button", href: "#/consent" }, "Read and give consent"));
  }
  const withdraw = h("button", { type: "button", class: "secondary" }, "Withdraw consent");
  withdraw.addEventListener("click", async () => {
    if (!confirm("Withdraw consent? All processing of your photos stops and running jobs are cancelled.")) return;
    try {
      app.me = await post("/me/consent", { biometric_processing: false });
      go("#/withdrawn");
    } catch (error) { toast(error.message); }
  });
  return h("div", { class: "stack" },
    h("p", { class: "small muted" }, "Consent given (version " + me.consent_version + "). ",
      h("a", { class: "tap", href: "#/consent" }, "Read what you agreed to")),
    withdraw);
}

// The email opt-out, or null when this server sends no mail about jobs.
async function emailChoice() {
  let chosen;
  try { chosen = await get("/me/notifications"); } catch (error) { if (error.status === 404) return null; throw error; }
  const box = h("input", { id: "notify-email", type: "checkbox", checked: chosen.email });
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      const saved = await api("PUT", "/me/notifications", { email: box.checked });
      box.checked = saved.email;
      toast(saved.email ? "We will email you when they are ready." : "No more emails about your models and headshots.");
    } catch (error) { box.checked = !box.checked; toast(error.message); } finally { box.disabled = false; }
  });
  return h("label", { class: "check", for: "notify-email" }, box, "Email me when my model or headshots are ready");
}

// The VAPID public key (base64url) as the bytes PushManager.subscribe wants.
function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - base64url.length % 4) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const PUSH_ID = "headshot-push-subscription";

// "Notify me on this device": Web Push through the service worker, where the browser has it
// and the server sends it (GET /push/key answers 404 when it does not).
async function deviceChoice() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return null;
  let key;
  try { key = (await get("/push/key")).public_key; } catch (error) { if (error.status === 404) return null; throw error; }
  const button = h("button", { type: "button", class: "secondary" });
  const state = h("p", { class: "small muted", role: "status" });
  function show() {
    const on = Boolean(localStorage.getItem(PUSH_ID)) && Notification.permission === "granted";
    button.textContent = on ? "Stop notifying this device" : "Notify me on this device";
    state.textContent = on ? "This device is told when your headshots are ready." : "";
  }
  async function subscribe() {
    if (await Notification.requestPermission() !== "granted") {
      toast("Notifications are blocked for this site in the browser's settings.");
      return;
    }
    const registration = await navigator.serviceWorker.ready;
    const subscription = (await registration.pushManager.getSubscription())
      || await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
    const made = await post("/me/push-subscriptions", subscription.toJSON());
    localStorage.setItem(PUSH_ID, made.id);
  }
  async function unsubscribe() {
    const id = localStorage.getItem(PUSH_ID);
    localStorage.removeItem(PUSH_ID);
    if (id) await del("/me/push-subscriptions/" + encodeURIComponent(id)).catch(() => null);
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (subscription) await subscription.unsubscribe();
  }
  button.addEventListener("click", async () => {
    const on = Boolean(localStorage.getItem(PUSH_ID));
    try { await busy(button, on ? "Stopping…" : "Asking…", on ? unsubscribe : subscribe); } catch (error) { toast(error.message); }
    show();
  });
  show();
  return h("div", { class: "stack" }, button, state);
}

async function notificationsCard() {
  const choices = [await emailChoice(), await deviceChoice()].filter(Boolean);
  if (!choices.length) return null;
  return h("section", { class: "card stack", "aria-labelledby": "notify-title" },
    h("h2", { id: "notify-title" }, "Notifications"),
    h("p", { class: "small muted" }, "A training takes many minutes: we can tell you when it is done."),
    choices);
}

function operatorCard(me) {
  if (!me.is_operator) return null;
  return h("section", { class: "card stack", "aria-labelledby": "operator-title" },
    h("h2", { id: "operator-title" }, "Operator"),
    h("p", { class: "small muted" }, "Targets, invitations and limits for this server."),
    h("a", { class: "button secondary wide", href: "#/operator" }, "Run this server"));
}

export async function accountView() {
  const me = app.me;
  render(
    h("h1", {}, "Account"),
    h("section", { class: "card stack", "aria-labelledby": "me-title" },
      h("h2", { id: "me-title", class: "visually-hidden" }, "You"),
      h("p", { class: "email" }, "Signed in as ", h("strong", {}, me.email)),
      verificationNote(me), consentCard(me), h("div", { class: "row" }, signOutButton())),
    h("section", { class: "card stack", "aria-labelledby": "export-title" },
      h("h2", { id: "export-title" }, "Your data"),
      h("p", { class: "small muted" }, "One zip with every record we hold about you, your photos, models and headshots."),
      exportButton()),
    await notificationsCard(),
    operatorCard(me),
    passwordCard(),
    await tokensCard(),
    erasePanel(me));
}

// Where withdrawal lands: what happened, and export and erasure one tap away.
export async function withdrawnView() {
  const me = app.me.consent_given ? await refreshMe() : app.me;
  if (me.consent_given) { redirect("#/account"); return; }  // given again since: nothing to say here
  render(
    h("h1", {}, "Consent withdrawn"),
    h("section", { class: "card stack" },
      h("p", {}, "Nothing of yours is processed any more, and running jobs were stopped. " +
        "Your photos, models and headshots are still stored until you delete them."),
      h("p", { class: "small muted" }, "You can download everything, erase everything, or give consent again."),
      exportButton(),
      h("div", { class: "row" }, h("a", { class: "button secondary", href: "#/consent" }, "Give consent again"), signOutButton())),
    erasePanel(me));
}

export async function erasedView() {
  const receipt = JSON.parse(sessionStorage.getItem("headshot-receipt") || "null");
  document.getElementById("tabs").hidden = true;
  if (!receipt) { redirect("#/signin"); return; }
  const status = h("p", {}, "Status: ", h("strong", {}, receipt.status === "complete" ? "complete" : "provider deletions pending"));
  const counts = Object.entries(receipt.deleted).map(([what, n]) => h("li", {}, countWords(what, n)));
  render(
    h("h1", {}, "Your account is erased"),
    h("section", { class: "card stack" },
      h("p", {}, "Everything was deleted here and you are signed out. Keep this receipt to check that the provider finished too."),
      h("p", {}, "Receipt ", h("code", { class: "receipt" }, receipt.id)),
      status, h("ul", { class: "small" }, counts),
      h("p", { class: "small" }, h("a", { class: "tap", href: receipt.status_url, target: "_blank", rel: "noopener" }, "Check the receipt's status")),
      h("a", { class: "button secondary", href: "#/signin" }, "Done")));
}
