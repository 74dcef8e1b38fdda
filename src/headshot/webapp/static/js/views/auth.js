// Sign in, create an account, forgotten and reset passwords, email verification, and the consent
// to process face photos.
import { get, post } from "../api.js";
import { h, render, errorBox, busy, toast } from "../dom.js";
import { app, redirect, refreshMe, signedOut } from "../router.js";

// The server's rule when it says (GET /config), else the default.
const minPassword = () => (app.config && app.config.min_password_length) || 10;

function field(id, label, attrs, hint) {
  const input = h("input", { id, ...attrs });
  return { input, node: h("div", {}, h("label", { for: id }, label), input, hint ? h("p", { class: "small muted", id: id + "-hint" }, hint) : null) };
}

// What the browser can tell before asking the server, in plain words.
function checkLocally(email, password, create) {
  if (!email.value.trim()) return "Please enter your email address.";
  if (email.validity.typeMismatch) return "That does not look like an email address. Check it for a typo (it should look like name@example.com).";
  if (!password.value) return "Please enter your password.";
  if (create && password.value.length < minPassword()) return "Choose a password of at least " + minPassword() + " characters.";
  return null;
}

function photosWords() {
  const n = app.config && app.config.min_photos;
  return n ? n + " or more photos" : "a set of photos";
}

// The invitation field, shown only when the server registers by invitation; a link
// `#/signup?invite=CODE` fills it in.
function inviteField(code) {
  if (app.config.signup !== "invite") return null;
  return field("invite", "Invitation code (to create an account)",
    { type: "text", autocomplete: "off", autocapitalize: "none", spellcheck: "false", value: code || "", "aria-describedby": "invite-hint" },
    "Registration here is by invitation. Paste the code the operator gave you.");
}

function closedNote() {
  if (app.config.signup !== "closed" && app.config.signup !== false) return null;
  return h("p", { class: "small muted center" },
    "Registration is closed on this server. Ask its operator for an account.");
}

export async function signUpView(code) {
  return signInView(code ? decodeURIComponent(code) : null);
}

export async function signInView(inviteCode) {
  const problem = h("div");
  const invite = inviteField(inviteCode);
  const email = field("email", "Email", { type: "email", autocomplete: "email", required: true });
  const password = field("password", "Password",
    { type: "password", autocomplete: "current-password", required: true, "aria-describedby": "password-hint" },
    "At least " + minPassword() + " characters for a new account.");
  async function submit(button, create) {
    problem.replaceChildren();
    const local = checkLocally(email.input, password.input, create);
    if (local) { problem.replaceChildren(errorBox({ message: local })); return; }
    if (create && invite && !invite.input.value.trim()) {
      problem.replaceChildren(errorBox({ message: "Please enter the invitation code the operator gave you." }));
      return;
    }
    const body = { email: email.input.value.trim(), password: password.input.value };
    try {
      await busy(button, create ? "Creating…" : "Signing in…", async () => {
        if (create) await post("/auth/register", invite ? { ...body, invite: invite.input.value.trim() } : body);
        await post("/auth/login", body);
      });
      app.me = null;
      await refreshMe();
      redirect(app.me.consent_given ? "#/" : "#/consent");
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  }
  const signIn = h("button", { type: "submit", class: "wide" }, "Sign in");
  const create = h("button", { type: "button", class: "secondary wide" }, "Create account");
  create.addEventListener("click", () => submit(create, true));
  create.hidden = app.config.signup === false || app.config.signup === "closed";
  const form = h("form", { class: "card stack", novalidate: true, onsubmit: (e) => { e.preventDefault(); submit(signIn, false); } },
    email.node, password.node, invite && invite.node, problem, signIn, create, closedNote(),
    app.config.password_reset === false ? null
      : h("p", { class: "center" }, h("a", { class: "tap", href: "#/forgot" }, "Forgot your password?")));
  render(
    h("section", { class: "hero" },
      h("h1", {}, "Studio headshots from your selfies"),
      h("p", {}, "Take " + photosWords() + " on your phone. We check each one, train a model of you, and " +
        "make professional headshots in the looks you choose.")),
    form);
}

export async function forgotView() {
  const email = field("email", "Email", { type: "email", autocomplete: "email", required: true });
  const problem = h("div");
  const send = h("button", { type: "submit", class: "wide" }, "Send me a reset link");
  const form = h("form", { class: "card stack", novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    problem.replaceChildren();
    if (email.input.validity.typeMismatch || !email.input.value.trim()) {
      problem.replaceChildren(errorBox({ message: "Please enter the email address of your account." }));
      return;
    }
    try {
      const answer = await busy(send, "Sending…", () => post("/auth/password/forgot", { email: email.input.value.trim() }));
      form.replaceChildren(h("p", { role: "status" }, answer.message ||
        "If an account uses that address, a reset link is on its way. It works once, for 30 minutes."),
      h("a", { class: "button secondary wide", href: "#/signin" }, "Back to sign in"));
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  } }, email.node, problem, send, h("p", { class: "center" }, h("a", { class: "tap", href: "#/signin" }, "Back to sign in")));
  render(h("h1", {}, "Forgot your password?"),
    h("p", { class: "muted" }, "We email you a link to choose a new one."), form);
}

export async function resetView(token) {
  const password = field("new-password", "New password",
    { type: "password", autocomplete: "new-password", required: true, "aria-describedby": "new-password-hint" },
    "At least " + minPassword() + " characters. You are signed out everywhere afterwards.");
  const problem = h("div");
  const save = h("button", { type: "submit", class: "wide" }, "Set new password");
  const form = h("form", { class: "card stack", onsubmit: async (e) => {
    e.preventDefault();
    problem.replaceChildren();
    if (password.input.value.length < minPassword()) {
      problem.replaceChildren(errorBox({ message: "Choose a password of at least " + minPassword() + " characters." }));
      return;
    }
    try {
      await busy(save, "Saving…", () => post("/auth/password/reset", { token, password: password.input.value }));
      signedOut();
      history.replaceState(null, "", "#/signin");  // the token is used up: never go back to it
      form.replaceChildren(h("p", { role: "status" }, "Your password is changed. Please sign in with the new one."),
        h("a", { class: "button wide", href: "#/signin" }, "Sign in"));
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  } }, password.node, problem, save);
  document.getElementById("tabs").hidden = true;
  render(h("h1", {}, "Choose a new password"), form);
}

export async function verifyView(token) {
  document.getElementById("tabs").hidden = true;
  try {
    await post("/auth/email/verify", { token });
    if (app.me) await refreshMe();
    render(h("h1", {}, "Email address confirmed"),
      h("div", { class: "card stack" }, h("p", {}, "Thank you. Your email address is confirmed."),
        h("a", { class: "button wide", href: "#/" }, "Continue")));
  } catch (error) {
    render(h("h1", {}, "This link does not work"),
      h("div", { class: "card stack" }, errorBox(error),
        h("p", {}, "Links work once and expire. You can ask for a new one on your account page."),
        h("a", { class: "button wide", href: "#/account" }, "Go to my account")));
  }
}

export async function signOut() {
  try { await post("/auth/logout"); } catch (error) { if (error.status !== 401) throw error; }
  signedOut();
  redirect("#/signin");
}

export async function consentView() {
  const consent = await get("/consent");
  const given = app.me.consent_given;
  const agree = h("input", { id: "agree", type: "checkbox", checked: given });
  const button = h("button", { type: "button", class: "wide", disabled: !given }, given ? "Consent given" : "Agree and continue");
  agree.addEventListener("change", () => { button.disabled = !agree.checked || given; });
  const problem = h("div");
  button.addEventListener("click", async () => {
    try {
      await busy(button, "Saving…", () => post("/me/consent", { biometric_processing: true }));
      await refreshMe();
      redirect("#/");
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  const out = h("button", { type: "button", class: "secondary" }, "Sign out");
  out.addEventListener("click", () => signOut().catch((error) => toast(error.message)));
  render(
    h("h1", {}, "Your photos, your say"),
    h("p", { class: "muted" }, "Face photos are sensitive. Here is exactly what happens to them."),
    h("div", { class: "card stack" },
      consent.sections.map((section) => h("div", {}, h("h2", {}, section.title), h("p", {}, section.text))),
      h("p", { class: "small muted" }, "Consent text version " + consent.version)),
    h("div", { class: "card stack" },
      h("label", { class: "check", for: "agree" }, agree,
        "I agree that Headshot processes my face photos as described above."),
      problem, button,
      h("p", { class: "small muted" }, "Without consent you can still look around, download your data, delete anything and erase your account; nothing new is processed."),
      h("div", { class: "row" },
        h("a", { class: "button secondary", href: "#/account" }, given ? "Back to my account" : "Not now: my account"), out)));
}
