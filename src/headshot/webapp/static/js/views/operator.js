// The operator's page: the success targets against their thresholds, invitations to register,
// and one person's quota. Only operators reach it; the server answers 404 to anyone else.
import { get, post, del, api } from "../api.js";
import { h, render, errorBox, busy, badge, toast } from "../dom.js";
import { app, redirect } from "../router.js";

// The server names its targets; these are the words an operator reads.
const TARGET_WORDS = {
  training_failure_rate: "Trainings that fail",
  photo_processing_p95_s: "Photo check time (95 % of photos)",
  retention_30d_after_first_generation: "People who come back within 30 days of their first headshots",
};

function amount(value, unit) {
  if (unit === "ratio") return (Math.round(value * 1000) / 10) + " %";
  if (unit === "s") return (Math.round(value * 100) / 100) + " s";
  return String(value);
}

function targetRow(t) {
  const goal = (t.comparison === "<" ? "under " : "over ") + amount(t.threshold, t.unit);
  const verdict = t.met === null ? badge("muted", "No data yet")
    : t.met ? badge("ok", "Met") : badge("bad", "Missed");
  const now = t.value === null ? "Not measured yet." : "Now " + amount(t.value, t.unit) + ".";
  return h("li", { class: "stack target" },
    h("div", { class: "row spread" }, h("strong", {}, TARGET_WORDS[t.name] || t.name), verdict),
    h("p", { class: "small muted" }, "Goal: " + goal + ". " + now));
}

async function targetsCard() {
  const metrics = await get("/admin/metrics");
  return h("section", { class: "card stack", "aria-labelledby": "targets-title" },
    h("h2", { id: "targets-title" }, "Targets"),
    h("p", { class: "small muted" }, "Measured from the records of the last " + metrics.window_days + " days."),
    h("ul", { class: "list" }, metrics.targets.map(targetRow)),
    h("p", { class: "small muted" }, "Provider spend today: $" + metrics.spend_today_usd.toFixed(2) +
      (metrics.spend_cap_usd ? " of a $" + metrics.spend_cap_usd.toFixed(2) + " daily cap." : " (no daily cap).")));
}

const STATE_BADGE = { open: "ok", used: "muted", expired: "warn", revoked: "bad" };

function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

function invitationRow(inv, refresh) {
  const about = [inv.note, inv.email_domain ? "only @" + inv.email_domain : null,
    inv.state === "open" ? "expires " + day(inv.expires_at) : null].filter(Boolean).join(" · ");
  const revoke = inv.state === "open"
    ? h("button", { type: "button", class: "ghost", "aria-label": "Revoke invitation " + (inv.note || inv.id) }, "Revoke")
    : null;
  if (revoke) {
    revoke.addEventListener("click", async () => {
      try { await busy(revoke, "Revoking…", () => del("/admin/invitations/" + inv.id)); refresh(); } catch (error) { toast(error.message); }
    });
  }
  return h("li", { class: "row spread" },
    h("span", { class: "grow" }, badge(STATE_BADGE[inv.state] || "muted", inv.state), " ",
      h("span", { class: "small muted" }, about || "Invitation")),
    revoke);
}

function copyButton(label, text) {
  const button = h("button", { type: "button", class: "secondary" }, label);
  button.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(text); toast("Copied."); } catch (_) { toast("Select it and copy it."); }
  });
  return button;
}

// A new invitation's code is shown once: the link and the code, each one tap to copy.
function issued(made) {
  const link = location.origin + "/#/signup?invite=" + encodeURIComponent(made.token);
  return h("div", { class: "notice stack", role: "status" },
    h("p", { class: "small" }, "Invitation made. Copy it now; the code is not shown again."),
    h("p", { class: "small" }, "Code ", h("code", { class: "receipt", id: "invite-code" }, made.token)),
    h("div", { class: "row" }, copyButton("Copy link", link), copyButton("Copy code", made.token)));
}

async function invitationsCard() {
  const { invitations } = await get("/admin/invitations");
  const card = h("section", { class: "card stack", "aria-labelledby": "invites-title" });
  async function refresh(keep) {
    const fresh = await invitationsCard();
    if (keep) fresh.querySelector(".issued").replaceChildren(keep);
    card.replaceWith(fresh);
  }
  const note = h("input", { id: "invite-note", type: "text", maxlength: "200" });
  const domain = h("input", { id: "invite-domain", type: "text", maxlength: "255", placeholder: "company.com", autocapitalize: "none" });
  const days = h("input", { id: "invite-days", type: "number", min: "1", max: "365", inputmode: "numeric" });
  const problem = h("div");
  const create = h("button", { type: "submit", class: "wide" }, "Create invitation");
  const form = h("form", { class: "stack", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    problem.replaceChildren();
    const body = { note: note.value.trim() };
    const cleanDomain = domain.value.trim().replace(/^@/, "");
    if (cleanDomain) body.email_domain = cleanDomain;
    if (days.value) body.expires_in_days = Number(days.value);
    try {
      const made = await busy(create, "Creating…", () => post("/admin/invitations", body));
      refresh(issued(made));
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  } },
  h("div", {}, h("label", { for: "invite-note" }, "Who it is for (optional)"), note),
  h("div", {}, h("label", { for: "invite-domain" }, "Only addresses at this domain (optional)"), domain),
  h("div", {}, h("label", { for: "invite-days" }, "Days until it expires (optional)"), days),
  problem, create);
  card.append(h("h2", { id: "invites-title" }, "Invitations"),
    h("p", { class: "small muted" }, "Each invitation lets one person create an account."),
    form, h("div", { class: "issued" }),
    invitations.length ? h("ul", { class: "list" }, invitations.map((inv) => invitationRow(inv, () => refresh())))
      : h("p", { class: "small muted" }, "No invitations yet."));
  return card;
}

function limitWords(used, limit) {
  return used + " used of " + (limit ? limit : "no limit");
}

function quotaCard() {
  const email = h("input", { id: "quota-email", type: "email", autocomplete: "off" });
  const trainings = h("input", { id: "quota-trainings", type: "number", min: "0", inputmode: "numeric" });
  const images = h("input", { id: "quota-images", type: "number", min: "0", inputmode: "numeric" });
  const result = h("div", { role: "status" });
  const look = h("button", { type: "button", class: "secondary" }, "Look up");
  const save = h("button", { type: "submit", class: "secondary" }, "Save limits");
  function show(q) {
    trainings.value = q.trainings_limit;
    images.value = q.images_limit;
    result.replaceChildren(h("p", { class: "small" },
      "In the current " + q.period_days + " days: trainings " + limitWords(q.trainings_used, q.trainings_limit) +
      ", headshots " + limitWords(q.images_used, q.images_limit) + (q.overridden ? " (set for this person)." : " (the defaults).")));
  }
  look.addEventListener("click", async () => {
    try { show(await busy(look, "Looking…", () => get("/admin/quotas?email=" + encodeURIComponent(email.value.trim())))); } catch (error) { result.replaceChildren(errorBox(error)); }
  });
  const numberOrNull = (input) => (input.value === "" ? null : Number(input.value));
  return h("form", { class: "card stack", "aria-labelledby": "quota-title", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    try {
      show(await busy(save, "Saving…", () => api("PUT", "/admin/quotas", {
        email: email.value.trim(), trainings_per_period: numberOrNull(trainings), images_per_period: numberOrNull(images),
      })));
    } catch (error) { result.replaceChildren(errorBox(error)); }
  } },
  h("h2", { id: "quota-title" }, "One person's limits"),
  h("p", { class: "small muted" }, "Leave a limit empty for the default; 0 means no limit."),
  h("div", {}, h("label", { for: "quota-email" }, "Their email"), email),
  h("div", {}, h("label", { for: "quota-trainings" }, "Trainings per period"), trainings),
  h("div", {}, h("label", { for: "quota-images" }, "Headshots per period"), images),
  result, h("div", { class: "row" }, look, save));
}

export async function operatorView() {
  if (!app.me.is_operator) { redirect("#/account"); return; }
  render(
    h("h1", {}, "Running this server"),
    h("p", {}, h("a", { class: "tap", href: "#/account" }, "Back to my account")),
    await targetsCard(),
    await invitationsCard(),
    quotaCard());
}
