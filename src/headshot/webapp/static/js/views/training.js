// The model versions of a batch: live progress while training, then make headshots or delete.
import { h, badge, duration } from "../dom.js";
import { stageWords, STATUS_WORDS } from "../words.js";

const BADGE = { succeeded: "ok", failed: "bad", cancelled: "bad" };

export function trainingCard(model, { onCancel, onDelete }) {
  const running = model.status === "queued" || model.status === "running";
  const percent = Math.round((model.progress || 0) * 100);
  const status = running ? badge("wait", percent + "%") : badge(BADGE[model.status] || "wait", STATUS_WORDS[model.status] || model.status);
  const body = [h("div", { class: "row spread" }, h("strong", {}, "Model v" + model.version), status)];
  if (running) {
    body.push(h("progress", { max: "100", value: String(percent), "aria-label": "Training progress v" + model.version }),
      h("p", { class: "small muted" }, stageWords(model.stage) + (model.eta_s ? " · " + duration(model.eta_s) : "")),
      h("button", { type: "button", class: "secondary", onclick: onCancel }, "Cancel training"));
  } else {
    if (model.status === "succeeded") {
      body.push(h("a", { class: "button", href: "#/looks/" + model.id }, "Create headshots with v" + model.version));
    } else if (model.error) {
      body.push(h("p", { class: "small muted" }, model.error));
    }
    body.push(h("button", { type: "button", class: "ghost", onclick: onDelete, "aria-label": "Delete model v" + model.version },
      "Delete this version"));
  }
  return h("article", { class: "card stack", "aria-label": "Model v" + model.version }, body);
}
