// Choose looks (with previews): every combination of the picked backgrounds, attire and lighting
// is one look, so one tap can add several. An axis the active engine cannot render is shown with
// its reason instead of choices. Then generate and watch the progress above the tab bar.
import { get, post } from "../api.js";
import { h, render, errorBox, busy, badge, showStatus, clearStatus } from "../dom.js";
import * as events from "../events.js";
import { app } from "../router.js";
import { plural } from "../words.js";

const AXES = [["backgrounds", "background", "Background"], ["attire", "attire", "Attire"], ["lighting", "lighting", "Lighting"]];
const OWNER = "generation";

function axisSupport(styles, key) {
  const axis = (styles.axes || {})[key];
  return axis || { supported: true, reason: null };
}

function axisPicker(styles, [list, key, title], onChange) {
  const support = axisSupport(styles, key);
  const group = h("fieldset", { class: "card" }, h("legend", {}, h("strong", {}, title)));
  if (!support.supported) {
    group.append(h("p", { class: "small muted" }, support.reason || "The current engine cannot change this."));
    return group;
  }
  const grid = h("div", { class: "choices" });
  const picked = h("p", { class: "small muted" });
  // What is picked, in words: the row scrolls sideways, so some picks may be out of sight.
  const showPicked = () => {
    const names = styles[list].filter((s) => grid.querySelector("#" + key + "-" + s.id).checked).map((s) => s.name);
    picked.textContent = names.length ? "Picked: " + names.join(", ") : "Pick one or more.";
  };
  styles[list].forEach((style, index) => {
    const id = key + "-" + style.id;
    const box = h("input", { type: "checkbox", name: key, id, value: style.id, checked: index === 0 });
    box.addEventListener("change", () => { showPicked(); onChange(); });
    grid.append(h("div", { class: "choice" }, box,
      h("label", { for: id, title: style.description },
        h("img", { src: style.preview_url, alt: "", width: 160, height: 200 }),
        h("span", {}, style.name))));
  });
  group.append(picked, grid);
  showPicked();
  return group;
}

// What a look says on an axis the engine cannot render: "as photographed" where the catalogue
// has it (the person's own clothes), else nothing.
const UNCHANGED = { attire: "as-is" };

// Every combination of the picked values.
function looksOf(form, styles) {
  const data = new FormData(form);
  let looks = [{}];
  for (const [list, key] of AXES) {
    let values = data.getAll(key);
    if (!axisSupport(styles, key).supported) {
      const same = styles[list].find((s) => s.id === UNCHANGED[key]);
      if (!same) continue;
      values = [same.id];
    }
    looks = looks.flatMap((look) => values.map((value) => ({ ...look, [key]: value })));
  }
  return looks;
}

function missing(form, styles) {
  const data = new FormData(form);
  const gaps = AXES.filter(([, key]) => axisSupport(styles, key).supported && data.getAll(key).length === 0)
    .map(([, , title]) => title.toLowerCase());
  return gaps.length ? "Pick at least one " + gaps.join(" and one ") + "." : null;
}

function progressPanel(modelId) {
  const bar = h("progress", { max: "100", value: "0", "aria-label": "Generation progress" });
  const label = h("p", { class: "small" }, "Making your headshots…");
  const panel = h("div", { class: "stack" }, label, bar);
  return {
    panel,
    show(current) {
      bar.value = Math.round(current.progress * 100);
      const made = current.headshot_ids.length;
      const gallery = h("a", { class: "button", href: "#/gallery?model=" + modelId }, "See them in the gallery");
      if (current.status === "succeeded" || (current.status === "partial")) {
        const failed = current.failed_looks || [];
        label.replaceChildren(badge("ok", "Done"), " " + plural(made, "headshot is", "headshots are") + " ready.",
          failed.length ? h("span", { class: "muted" }, " " + plural(failed.length, "look", "looks") + " could not be made: " +
            failed.map((f) => f.reason).join("; ")) : null);
        bar.hidden = true;
        panel.append(gallery);
      } else if (current.status === "failed" || current.status === "cancelled") {
        label.replaceChildren(errorBox({ message: current.error || "The generation stopped." }));
        if (made) panel.append(gallery);
      }
    },
  };
}

export async function looksView(modelId) {
  const model = await get("/models/" + modelId);
  const styles = await get("/styles?engine=" + encodeURIComponent(model.engine));  // what this model's engine renders
  const pickers = h("form", { class: "axes" });
  const maxPerLook = app.config.images_per_look_max || 4;
  const perLook = h("select", { id: "per-look" },
    Array.from({ length: maxPerLook }, (_, i) => i + 1).map((n) => h("option", { value: n, selected: n === Math.min(2, maxPerLook) }, String(n))));
  const summary = h("p", { id: "looks-summary", "aria-live": "polite" });
  const generate = h("button", { type: "button", class: "wide", "aria-describedby": "looks-summary" }, "Generate headshots");
  const problem = h("div");

  function update() {
    const looks = looksOf(pickers, styles);
    const gap = missing(pickers, styles);
    const total = looks.length * Number(perLook.value);
    let why = null;
    if (gap) why = gap;
    else if (looks.length > app.config.looks_max) why = "That is " + looks.length + " looks; pick fewer (at most " + app.config.looks_max + ").";
    else if (!app.me.consent_given) why = "Making headshots needs your consent (see your account).";
    generate.disabled = Boolean(why);
    summary.textContent = why || plural(looks.length, "look", "looks") + " × " + perLook.value + " = " + plural(total, "headshot", "headshots") + ".";
    summary.className = why ? "small why" : "small";
  }
  for (const axis of AXES) pickers.append(axisPicker(styles, axis, update));
  perLook.addEventListener("change", update);

  let unsubscribe = () => {};
  generate.addEventListener("click", async () => {
    problem.replaceChildren();
    try {
      const made = await busy(generate, "Starting…", () => post("/generations", {
        model_id: modelId, looks: looksOf(pickers, styles), images_per_look: Number(perLook.value) }));
      const progress = progressPanel(modelId);
      showStatus(OWNER, progress.panel);
      const show = async () => progress.show(await get("/generations/" + made.id));
      unsubscribe();  // a second generation from this page replaces the first in the status bar
      unsubscribe = events.on((kind, data) => { if (kind === "generation" && data.id === made.id) show(); });
      await show();
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });
  update();

  render(
    h("p", {}, h("a", { class: "back", href: "#/batch/" + model.session_id }, h("span", { "aria-hidden": "true" }, "‹\u00a0"), "Back to the batch")),
    h("h1", {}, "Choose your looks"),
    h("p", { class: "muted" }, "Each combination of what you pick is one look."),
    pickers,
    h("section", { class: "card stack" },
      h("div", {}, h("label", { for: "per-look" }, "Images per look"), perLook), summary, problem, generate));
  return () => { unsubscribe(); clearStatus(OWNER); };
}
