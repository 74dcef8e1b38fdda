// Sign in, create an account, and the consent to process face photos.
import { get, post } from "../api.js";
import { h, render, errorBox, busy } from "../dom.js";
import { app, go, refreshMe } from "../main.js";

export async function signInView() {
  const problem = h("div");
  const email = h("input", { id: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", {
    id: "password", type: "password", autocomplete: "current-password", required: true,
  });
  async function submit(button, create) {
    problem.replaceChildren();
    const body = { email: email.value, password: password.value };
    try {
      await busy(button, create ? "Creating…" : "Signing in…", async () => {
        if (create) await post("/auth/register", body);
        await post("/auth/login", body);
      });
      app.me = null;
      await refreshMe();
      go(app.me.consent_given ? "#/" : "#/consent");
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  }
  const signIn = h("button", { type: "submit", class: "wide" }, "Sign in");
  const create = h("button", { type: "button", class: "secondary wide" }, "Create account");
  create.addEventListener("click", () => submit(create, true));
  const form = h("form", { class: "card stack", onsubmit: (e) => { e.preventDefault(); submit(signIn, false); } },
    h("div", {}, h("label", { for: "email" }, "Email"), email),
    h("div", {}, h("label", { for: "password" }, "Password"), password,
      h("p", { class: "small muted" }, "At least 10 characters for a new account.")),
    problem, signIn, create);
  render(
    h("section", { class: "hero" },
      h("h1", {}, "Studio headshots from your selfies"),
      h("p", {}, "Take ten photos on your phone. We check each one, train a model of you, and " +
        "make professional headshots in the looks you choose.")),
    form);
}

export async function consentView() {
  const consent = await get("/consent");
  const agree = h("input", { id: "agree", type: "checkbox" });
  const button = h("button", { type: "button", class: "wide", disabled: true }, "Agree and continue");
  agree.addEventListener("change", () => { button.disabled = !agree.checked; });
  const problem = h("div");
  button.addEventListener("click", async () => {
    try {
      await busy(button, "Saving…", () => post("/me/consent", { biometric_processing: true }));
      await refreshMe();
      go("#/");
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  render(
    h("h1", {}, "Your photos, your say"),
    h("p", { class: "muted" }, "Face photos are sensitive. Here is exactly what happens to them."),
    h("div", { class: "card stack" },
      consent.sections.map((section) => h("div", {}, h("h2", {}, section.title), h("p", {}, section.text))),
      h("p", { class: "small muted" }, "Consent text version " + consent.version)),
    h("div", { class: "card stack" },
      h("label", { class: "check", for: "agree" }, agree,
        "I agree that Headshot processes my face photos as described above."),
      problem, button));
}
