// The public JSON API of Headshot (API.md), as the app uses it. The session is an HttpOnly
// cookie set by /auth/login, so every call is same-origin with credentials.

export class ApiError extends Error {
  constructor(status, code, message, { details = {}, retryAfterS = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterS = retryAfterS;
  }

  // Worth another try later: no connection, the server busy (429) or failing (5xx). Any other
  // 4xx is the server's verdict and sending the same thing again would not change it.
  get transient() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

const NETWORK = "You seem to be offline. Check your connection and try again.";

// Field problems from the server's validator, said plainly.
const FIELD_WORDS = {
  email: "That does not look like an email address. Check it for a typo (it should look like name@example.com).",
  password: "Please choose a password.",
};

const SAID_PLAINLY = new Set(["busy", "out_of_space"]);

function plainMessage(status, code, message, details) {
  if (code === "invalid_input" && Array.isArray(details.fields)) {
    const field = details.fields.map((f) => f.field.split(".").pop()).find((name) => FIELD_WORDS[name]);
    if (field) return FIELD_WORDS[field];
  }
  // A busy server (503 "busy") or a full disk (507 "out_of_space") says plainly what is
  // happening; other server errors are not worth explaining.
  if (status >= 500 && !SAID_PLAINLY.has(code)) return "The server had a problem. Please try again in a moment.";
  return message;
}

// Retry-After in seconds (or an HTTP date), as sent by a busy server.
export function retryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}

function errorOf(status, body, retryAfterHeader) {
  const error = (body && body.error) || {};
  const code = error.code || "http_" + status;
  const details = error.details || {};
  const message = plainMessage(status, code,
    error.message || "Something went wrong (" + status + "). Please try again.", details);
  return new ApiError(status, code, message, { details, retryAfterS: retryAfter(retryAfterHeader) });
}

async function failure(response) {
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON: keep the generic sentence */ }
  return errorOf(response.status, body, response.headers.get("Retry-After"));
}

export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/api/v1" + path, init);
  } catch (_) {
    throw new ApiError(0, "offline", NETWORK);
  }
  if (!response.ok) throw await failure(response);
  // A deleted resource answers 204 and points at its deletion receipt.
  if (response.status === 204) return { receipt: response.headers.get("Deletion-Receipt") };
  return response.json();
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);

// One photo per request, so each has its own progress bar and result card.
export function uploadPhoto(sessionId, blob, name, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("files", blob, name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/sessions/" + encodeURIComponent(sessionId) + "/photos");
    xhr.withCredentials = true;
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, "offline", NETWORK));
    xhr.onload = () => {
      const body = xhr.response || {};
      if (xhr.status >= 200 && xhr.status < 300) { resolve(body.photos || []); return; }
      reject(errorOf(xhr.status, body, xhr.getResponseHeader("Retry-After")));
    };
    xhr.send(form);
  });
}
