// Choose looks on the three axes (with previews), then generate and watch the progress.
import { get, post } from "../api.js";
import { h, render, errorBox, busy, badge } from "../dom.js";
import * as events from "../events.js";

const AXES = [["backgrounds", "background", "Background"], ["attire", "attire", "Attire"], ["lighting", "lighting", "Lighting"]];

function axisPicker(styles, key, title) {
  const group = h("fieldset", { class: "card" }, h("legend", {}, h("strong", {}, title)));
  const grid = h("div", { class: "choices" });
  styles.forEach((style, index) => {
    const id = key + "-" + style.id;
    grid.append(h("div", { class: "choice" },
      h("input", { type: "radio", name: key, id, value: style.id, checked: index === 0 }),
      h("label", { for: id, title: style.description },
        h("img", { src: style.preview_url, alt: "", width: 160, height: 200 }),
        h("span", {}, style.name))));
  });
  group.append(grid);
  return group;
}

export async function looksView(modelId) {
  const [model, styles] = await Promise.all([get("/models/" + modelId), get("/styles")]);
  const chosen = [];
  const list = h("ul", { class: "list", "aria-label": "Chosen looks" });
  const pickers = h("form", { class: "axes" }, AXES.map(([axis, key, title]) => axisPicker(styles[axis], key, title)));
  const names = Object.fromEntries(AXES.map(([axis]) => [axis, Object.fromEntries(styles[axis].map((s) => [s.id, s.name]))]));
  const perLook = h("select", { id: "per-look" }, [1, 2, 3, 4].map((n) => h("option", { value: n, selected: n === 2 }, String(n))));
  const status = h("div", { "aria-live": "polite" });
  const generate = h("button", { type: "button", class: "wide", disabled: true }, "Generate headshots");

  function showChosen() {
    list.replaceChildren(...chosen.map((look, index) => h("li", { class: "row spread" },
      h("span", {}, names.backgrounds[look.background] + " · " + names.attire[look.attire] + " · " + names.lighting[look.lighting]),
      h("button", { type: "button", class: "link", onclick: () => { chosen.splice(index, 1); showChosen(); } }, "Remove"))));
    generate.disabled = chosen.length === 0;
  }
  const addLook = h("button", { type: "button", class: "secondary wide" }, "Add this look");
  addLook.addEventListener("click", () => {
    const data = new FormData(pickers);
    const look = { background: data.get("background"), attire: data.get("attire"), lighting: data.get("lighting") };
    if (chosen.length < 12 && !chosen.some((l) => JSON.stringify(l) === JSON.stringify(look))) chosen.push(look);
    showChosen();
  });

  let unsubscribe = () => {};
  generate.addEventListener("click", async () => {
    status.replaceChildren();
    try {
      const made = await busy(generate, "Starting…", () => post("/generations", {
        model_id: modelId, looks: chosen, images_per_look: Number(perLook.value) }));
      const bar = h("progress", { max: "100", value: "0", "aria-label": "Generation progress" });
      const label = h("p", { class: "small muted" }, "Making your headshots…");
      status.replaceChildren(h("div", { class: "card stack" }, label, bar));
      const show = async () => {
        const current = await get("/generations/" + made.id);
        bar.value = Math.round(current.progress * 100);
        if (current.status === "succeeded") {
          label.replaceChildren(badge("ok", "Done"), " " + current.headshot_ids.length + " headshots are ready. ",
            h("a", { href: "#/gallery?model=" + modelId }, "See them in the gallery"));
        } else if (current.status === "failed" || current.status === "cancelled") {
          label.replaceChildren(errorBox({ message: current.error || "The generation " + current.status + "." }));
        }
      };
      unsubscribe = events.on((kind, data) => { if (kind === "generation" && data.id === made.id) show(); });
      await show();
    } catch (error) {
      status.replaceChildren(errorBox(error));
    }
  });

  render(
    h("p", {}, h("a", { href: "#/batch/" + model.session_id }, "‹ Back to the batch")),
    h("h1", {}, "Choose your looks"),
    h("p", { class: "muted" }, "Pick a background, attire and lighting, add the look, and repeat for more." +
      (model.engine === "studio" ? " The offline studio keeps your own clothes; attire needs the AI engine." : "")),
    pickers, addLook,
    h("section", { class: "card stack" }, h("h2", {}, "Looks to make"), list,
      h("div", {}, h("label", { for: "per-look" }, "Images per look"), perLook), generate),
    status);
  return () => unsubscribe();
}
