// Plain words: plurals, job stages and statuses as a person would say them.

export function plural(count, one, many) {
  return count + " " + (count === 1 ? one : many);
}

// Stage words the server uses internally, said plainly; other stages are already plain.
const STAGES = {
  queued: "waiting to start",
  running: "working",
  submitting: "sending to the provider",
  fetching: "collecting the results",
  succeeded: "done",
  cancelled: "cancelled",
  failed: "stopped",
};

export function stageWords(stage) {
  if (!stage) return "";
  return STAGES[stage] || stage;
}

export const STATUS_WORDS = {
  queued: "Waiting to start",
  running: "In progress",
  succeeded: "Ready",
  partial: "Partly done",
  failed: "Failed",
  cancelled: "Cancelled",
};

// Headings for what a deletion removed, as counted on a receipt.
export function countWords(what, count) {
  const name = what.replaceAll("_", " ");
  const one = name.endsWith("ies") ? name.slice(0, -3) + "y" : name.replace(/s$/, "");
  return plural(count, one, name);
}
