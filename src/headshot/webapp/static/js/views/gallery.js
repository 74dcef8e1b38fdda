// The gallery: filters, favourites, download one or all, share by an expiring link, delete.
import { get, patch, post, del } from "../api.js";
import { h, render, empty, errorBox, toast, badge } from "../dom.js";

function query(filters) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  return params.toString();
}

async function share(headshot, slot) {
  const link = await post("/headshots/" + headshot.id + "/shares", { expires_in_s: 7 * 24 * 3600 });
  const url = new URL(link.url, location.origin).href;
  const revoke = h("button", { type: "button", class: "secondary" }, "Revoke link");
  revoke.addEventListener("click", async () => {
    await del("/shares/" + link.id);
    slot.replaceChildren(h("p", { class: "small muted" }, "Link revoked."));
  });
  slot.replaceChildren(h("div", { class: "stack small" },
    h("label", { for: "link-" + link.id }, "Share link (expires " + new Date(link.expires_at).toLocaleDateString() + ")"),
    h("input", { id: "link-" + link.id, type: "text", readonly: true, value: url }), revoke));
  if (navigator.share) {
    try { await navigator.share({ title: "My headshot", url }); return; } catch (_) { /* closed */ }
  }
  try { await navigator.clipboard.writeText(url); toast("Link copied."); } catch (_) { /* shown above */ }
}

// The headshot's links that still work, each with its own revoke button.
async function showLinks(headshot, slot) {
  const { shares } = await get("/headshots/" + headshot.id + "/shares");
  if (!shares.length) {
    slot.replaceChildren(h("p", { class: "small muted" }, "No active links."));
    return;
  }
  slot.replaceChildren(h("ul", { class: "list small", "aria-label": "Active links" }, shares.map((share) => {
    const revoke = h("button", { type: "button", class: "link" }, "Revoke");
    revoke.addEventListener("click", async () => { await del("/shares/" + share.id); showLinks(headshot, slot); });
    return h("li", { class: "row spread" },
      h("span", {}, "Expires " + new Date(share.expires_at).toLocaleDateString()), revoke);
  })));
}

function card(headshot, refresh) {
  const slot = h("div", { class: "meta" });
  const favourite = h("button", { type: "button", class: "secondary", "aria-pressed": String(headshot.favorite),
    "aria-label": headshot.favorite ? "Unfavourite" : "Favourite" }, headshot.favorite ? "★" : "☆");
  favourite.addEventListener("click", async () => { await patch("/headshots/" + headshot.id, { favorite: !headshot.favorite }); refresh(); });
  const shareButton = h("button", { type: "button", class: "secondary" }, "Share");
  const linksButton = h("button", { type: "button", class: "secondary" }, "Links");
  linksButton.addEventListener("click", () => showLinks(headshot, slot).catch((e) => toast(e.message)));
  shareButton.addEventListener("click", () => share(headshot, slot).catch((e) => toast(e.message)));
  const remove = h("button", { type: "button", class: "secondary", "aria-label": "Delete headshot" }, "Delete");
  remove.addEventListener("click", async () => {
    if (!confirm("Delete this headshot for good?")) return;
    await del("/headshots/" + headshot.id); refresh();
  });
  const likeness = headshot.likeness === null ? "likeness unknown" : "likeness " + Math.round(headshot.likeness * 100) + "%";
  return h("article", { class: "shot", "aria-label": "Headshot " + headshot.background + ", " + headshot.lighting },
    h("img", { src: "/api/v1/headshots/" + headshot.id + "/image", alt: "Headshot: " + headshot.background + " background, " + headshot.lighting + " lighting", width: 400, height: 500, loading: "lazy" }),
    h("div", { class: "meta" }, h("span", { class: "muted" }, likeness), " ", headshot.flagged ? badge("warn", "Low likeness") : null),
    h("div", { class: "actions" }, favourite,
      h("a", { class: "button secondary", href: "/api/v1/headshots/" + headshot.id + "/image", download: "headshot-" + headshot.id + ".jpg" }, "Download"),
      shareButton, linksButton, remove),
    slot);
}

export async function galleryView() {
  const initial = new URLSearchParams(location.hash.split("?")[1] || "");
  const [styles, sessions] = await Promise.all([get("/styles"), get("/sessions")]);
  const models = (await Promise.all(sessions.sessions.map(async (s) =>
    (await get("/sessions/" + s.id + "/models")).models
      .filter((m) => m.status === "succeeded")
      .map((m) => [m.id, s.name + " · v" + m.version])))).flat();
  const filters = { session: "", model: initial.get("model") || "", background: "", attire: "", lighting: "", favorite: "", min_likeness: "" };
  const grid = h("div", { class: "gallery", "aria-label": "Headshots" });
  const more = h("button", { type: "button", class: "secondary wide", hidden: true }, "Load more");
  const all = h("a", { class: "button secondary", href: "#" }, "Download all (zip)");
  const problem = h("div");
  let cursor = null;

  async function load(reset) {
    problem.replaceChildren();
    try {
      const page = await get("/headshots?" + query({ ...filters, cursor: reset ? "" : cursor }));
      if (reset) grid.replaceChildren();
      for (const headshot of page.headshots) grid.append(card(headshot, () => load(true)));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      all.href = "/api/v1/headshots/archive?" + query(filters);
      if (!grid.childElementCount) grid.replaceChildren(empty("No headshots here yet", "Train a model in a batch, then choose your looks."));
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  }
  more.addEventListener("click", () => load(false));

  const select = (key, label, options) => {
    const id = "filter-" + key;
    const el = h("select", { id }, h("option", { value: "" }, "All"),
      options.map(([value, text]) => h("option", { value, selected: filters[key] === value }, text)));
    el.addEventListener("change", () => { filters[key] = el.value; load(true); });
    return h("div", {}, h("label", { for: id }, label), el);
  };
  const favourites = h("input", { id: "filter-favorite", type: "checkbox" });
  favourites.addEventListener("change", () => { filters.favorite = favourites.checked ? "true" : ""; load(true); });
  const form = h("form", { class: "card filters", "aria-label": "Filters", onsubmit: (e) => e.preventDefault() },
    select("session", "Batch", sessions.sessions.map((s) => [s.id, s.name])),
    select("model", "Model version", models),
    select("background", "Background", styles.backgrounds.map((s) => [s.id, s.name])),
    select("attire", "Attire", styles.attire.map((s) => [s.id, s.name])),
    select("lighting", "Lighting", styles.lighting.map((s) => [s.id, s.name])),
    select("min_likeness", "Likeness", [["0.36", "Good likeness only"], ["0.5", "Strong likeness only"]]),
    h("label", { class: "check full", for: "filter-favorite" }, favourites, "Favourites only"));
  render(h("div", { class: "row spread" }, h("h1", {}, "Gallery"), all), form, problem, grid, more);
  await load(true);
}

