// The person's batches (photo sessions): list, create and delete.
import { get, post, del } from "../api.js";
import { h, render, empty, errorBox, busy, deletedToast, toast } from "../dom.js";
import { app, go, route } from "../router.js";
import { plural } from "../words.js";

// Shown wherever new processing would be refused: why, and the one tap that fixes it.
export function consentNotice() {
  if (app.me.consent_given) return null;
  return h("section", { class: "notice stack", "aria-labelledby": "consent-notice" },
    h("h2", { id: "consent-notice" }, "Nothing is processed without your consent"),
    h("p", { class: "small" }, "You can look around, download your data, delete anything and erase your account. " +
      "To add photos, train or make headshots, give your consent first."),
    h("a", { class: "button", href: "#/consent" }, "Read and give consent"));
}

function usableWords(s) {
  if (s.usable_count !== undefined && s.required_count !== undefined) {
    return s.usable_count + " of " + s.required_count + " usable photos";
  }
  return s.accepted_count + " of " + plural(s.photo_count, "photo", "photos") + " usable";
}

function batchRow(s) {
  const remove = h("button", { type: "button", class: "ghost", "aria-label": "Delete batch " + s.name }, "Delete");
  remove.addEventListener("click", async () => {
    if (!confirm("Delete the batch “" + s.name + "” with its photos, models and headshots? This cannot be undone.")) return;
    try {
      const { receipt } = await busy(remove, "Deleting…", () => del("/sessions/" + s.id));
      deletedToast("Batch", receipt);
      route();
    } catch (error) {
      toast(error.message);
    }
  });
  return h("li", { class: "row-item" },
    h("a", { class: "item", href: "#/batch/" + s.id },
      h("span", {}, h("strong", {}, s.name), h("br"), h("span", { class: "small muted" }, usableWords(s))),
      h("span", { "aria-hidden": "true" }, "›")),
    remove);
}

export async function batchesView() {
  const { sessions } = await get("/sessions");
  const name = h("input", { id: "batch-name", type: "text", maxlength: "120", placeholder: "e.g. Office 2026" });
  const problem = h("div");
  const create = h("button", { type: "submit" }, "New batch");
  const form = h("form", { class: "card stack", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const made = await busy(create, "Creating…", () => post("/sessions", { name: name.value || "My batch" }));
      go("#/batch/" + made.id);
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  } },
  h("div", {}, h("label", { for: "batch-name" }, "Batch name"), name), problem, create);
  const needed = app.config.min_photos;
  const list = sessions.length
    ? h("ul", { class: "list card", "aria-label": "Batches" }, sessions.map(batchRow))
    : h("div", { class: "card" }, empty("No batches yet",
      "A batch is one set of selfies. Create one, then add " + (needed ? "at least " + plural(needed, "photo", "photos") : "your photos") + "."));
  render(h("h1", {}, "Your batches"), consentNotice(), list, form);
}
