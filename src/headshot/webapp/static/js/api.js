// The public JSON API of Headshot (API.md), as the app uses it. The session is an HttpOnly
// cookie set by /auth/login, so every call is same-origin with credentials.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const NETWORK = "You seem to be offline. Check your connection and try again.";

async function failure(response) {
  let code = "http_" + response.status;
  let message = "Something went wrong (" + response.status + "). Please try again.";
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch (_) { /* not JSON: keep the generic sentence */ }
  return new ApiError(response.status, code, message);
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
  if (response.status === 204) return null;
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
      const error = body.error || {};
      reject(new ApiError(xhr.status, error.code || "upload_failed",
        error.message || "The upload failed (" + xhr.status + ")."));
    };
    xhr.send(form);
  });
}
