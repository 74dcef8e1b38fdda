// The person's batches (photo sessions): list and create.
import { get, post } from "../api.js";
import { h, render, empty, errorBox, busy } from "../dom.js";
import { go } from "../main.js";

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
  const list = sessions.length
    ? h("ul", { class: "list card" }, sessions.map((s) => h("li", {},
      h("a", { class: "item", href: "#/batch/" + s.id },
        h("span", {}, h("strong", {}, s.name), h("br"),
          h("span", { class: "small muted" }, s.accepted_count + " of " + s.photo_count + " photos usable")),
        h("span", { "aria-hidden": "true" }, "›")))))
    : h("div", { class: "card" }, empty("No batches yet",
      "A batch is one set of selfies. Create one, then add at least ten photos."));
  render(h("h1", {}, "Your batches"), list, form);
}
