// The account page: consent, export, API tokens, sign out and erasure (with its receipt).
import { get, post, del } from "../api.js";
import { h, render, errorBox, busy, toast } from "../dom.js";
import { app, go } from "../main.js";
import * as events from "../events.js";

async function tokensCard() {
  const { tokens } = await get("/auth/tokens");
  const live = tokens.filter((t) => !t.revoked);
  const list = live.length === 0 ? h("p", { class: "small muted" }, "No tokens yet.") : h("ul", { class: "list" }, live.map((t) => h("li", { class: "row spread" },
    h("span", {}, h("strong", {}, t.name), " ", h("span", { class: "small muted" }, t.prefix + "… · " + t.scopes.join(", "))),
    h("button", { type: "button", class: "link", onclick: async () => { await del("/auth/tokens/" + t.id); refresh(); } }, "Revoke " + t.name))));
  const name = h("input", { id: "token-name", type: "text", maxlength: "100" });
  const write = h("input", { id: "token-write", type: "checkbox" });
  const shown = h("div");
  const create = h("button", { type: "submit", class: "secondary" }, "Create token");
  const card = h("section", { class: "card stack", "aria-labelledby": "tokens-title" },
    h("h2", { id: "tokens-title" }, "API tokens"),
    h("p", { class: "small muted" }, "For scripts and integrations. A token is shown once."),
    list,
    h("form", { class: "stack", onsubmit: async (e) => {
      e.preventDefault();
      const made = await busy(create, "Creating…", () => post("/auth/tokens", { name: name.value || "token", scopes: write.checked ? ["read", "write"] : ["read"] }));
      shown.replaceChildren(h("p", { class: "small" }, "Copy it now: ", h("code", { class: "receipt" }, made.token)));
      refresh(false);
    } }, h("div", {}, h("label", { for: "token-name" }, "Token name"), name),
    h("label", { class: "check", for: "token-write" }, write, "Allow changes (write)"), create),
    shown);
  async function refresh(clear = true) {
    const fresh = await tokensCard();
    if (!clear) fresh.append(shown);
    card.replaceWith(fresh);
  }
  return card;
}

export async function accountView() {
  const me = app.me;
  const problem = h("div");
  const withdraw = h("button", { type: "button", class: "secondary" }, "Withdraw consent");
  withdraw.addEventListener("click", async () => {
    if (!confirm("Withdraw consent? All processing of your photos stops and running jobs are cancelled.")) return;
    const answer = await post("/me/consent", { biometric_processing: false });
    app.me = answer;
    toast(answer.message);
    go("#/consent");
  });
  const signOut = h("button", { type: "button", class: "secondary" }, "Sign out");
  signOut.addEventListener("click", async () => {
    await post("/auth/logout"); events.disconnect(); app.me = null; go("#/signin");
  });
  const confirmation = h("input", { id: "erase-confirm", type: "email", autocomplete: "off" });
  const erase = h("button", { type: "button", class: "danger wide", disabled: true }, "Erase my account");
  confirmation.addEventListener("input", () => { erase.disabled = confirmation.value.trim().toLowerCase() !== me.email; });
  erase.addEventListener("click", async () => {
    try {
      const receipt = await busy(erase, "Erasing…", () => del("/me"));
      events.disconnect();
      app.me = null;
      sessionStorage.setItem("headshot-receipt", JSON.stringify(receipt));
      go("#/erased");
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  render(
    h("h1", {}, "Account"),
    h("section", { class: "card stack" }, h("p", {}, "Signed in as ", h("strong", {}, me.email)),
      h("p", { class: "small muted" }, "Consent given (version " + me.consent_version + ")."),
      h("div", { class: "row" }, withdraw, signOut)),
    h("section", { class: "card stack", "aria-labelledby": "export-title" },
      h("h2", { id: "export-title" }, "Your data"),
      h("p", { class: "small muted" }, "One zip with every record we hold about you, your photos, models and headshots."),
      h("a", { class: "button secondary", href: "/api/v1/me/export", download: "" }, "Download all my data")),
    await tokensCard(),
    h("section", { class: "card stack", "aria-labelledby": "erase-title" },
      h("h2", { id: "erase-title" }, "Erase everything"),
      h("p", { class: "small" }, "This deletes your account, photos, models and headshots here at once, " +
        "and asks fal.ai to delete its copies. It cannot be undone. You get a receipt."),
      h("div", {}, h("label", { for: "erase-confirm" }, "Type your email to confirm"), confirmation),
      problem, erase));
}

export async function erasedView() {
  const receipt = JSON.parse(sessionStorage.getItem("headshot-receipt") || "null");
  document.getElementById("tabs").hidden = true;
  if (!receipt) { go("#/signin"); return; }
  const status = h("p", {}, "Status: ", h("strong", {}, receipt.status === "complete" ? "complete" : "provider deletions pending"));
  const counts = Object.entries(receipt.deleted).map(([what, n]) => h("li", {}, n + " " + what.replaceAll("_", " ")));
  render(
    h("h1", {}, "Your account is erased"),
    h("section", { class: "card stack" },
      h("p", {}, "Everything was deleted here. Keep this receipt to check that the provider finished too."),
      h("p", {}, "Receipt ", h("code", { class: "receipt" }, receipt.id)),
      status, h("ul", { class: "small" }, counts),
      h("p", { class: "small" }, h("a", { href: receipt.status_url }, "Check the receipt's status")),
      h("a", { class: "button secondary", href: "#/signin" }, "Done")));
}
