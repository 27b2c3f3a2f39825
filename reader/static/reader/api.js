// The API client: every call the reader makes goes through `api()`.
//
// Tokens: the access token lives in memory only; the refresh token in this
// tab's sessionStorage, so a reload keeps the learner signed in and closing
// the tab forgets it. Neither ever goes into a URL or a log line. The access
// token is refreshed a minute before it expires (and once more if the API
// says it is no longer valid); signing out revokes the refresh token and
// clears both.

const REFRESH_KEY = "langlearn.refresh";

let access = null;
let refreshTimer = null;
let refreshing = null;
let onSignedOut = () => {};

// An answer of the API that is not a success, or no answer at all
// (status 0, code "network"). `detail` is the API's own text for people,
// `code` its stable code, `fields` its per-field messages (400s).
export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    super(detail || `Request failed (${status})`);
    this.status = status;
    this.code = (body && body.code) || (status === 0 ? "network" : "");
    this.fields = {};
    if (body && !body.detail) {
      for (const [field, messages] of Object.entries(body)) {
        if (Array.isArray(messages)) this.fields[field] = messages.join(" ");
      }
    }
  }
}

export const NETWORK_MESSAGE =
  "The server cannot be reached. Check your connection, then try again.";

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export function signedIn() {
  return access !== null;
}

function expiresIn(token) {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return payload.exp * 1000 - Date.now();
  } catch {
    return 0;
  }
}

function keep(pair) {
  access = pair.access;
  sessionStorage.setItem(REFRESH_KEY, pair.refresh);
  clearTimeout(refreshTimer);
  const wait = Math.max(expiresIn(access) - 60_000, 5_000);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

function forget() {
  access = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
}

async function send(path, { method = "GET", body, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && access) headers.Authorization = `Bearer ${access}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, null);
  }
}

async function failure(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return new ApiError(response.status, body);
}

// A new token pair from the refresh token; one refresh at a time. A refusal
// signs the learner out; no answer at all leaves them signed in, to try again.
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const token = sessionStorage.getItem(REFRESH_KEY);
      if (!token) throw new ApiError(401, { code: "not_authenticated" });
      const response = await send("/api/auth/token/refresh", {
        method: "POST",
        body: { refresh: token },
        auth: false,
      });
      if (!response.ok) {
        const error = await failure(response);
        if (response.status === 401 || response.status === 400) {
          forget();
          onSignedOut();
        }
        throw error;
      }
      keep(await response.json());
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// Resume the session this tab had (after a reload): true when signed in.
export async function resume() {
  if (!sessionStorage.getItem(REFRESH_KEY)) return false;
  try {
    await refresh();
    return true;
  } catch {
    return false;
  }
}

async function call(path, options = {}) {
  let response = await send(path, options);
  if (response.status === 401 && options.auth !== false && sessionStorage.getItem(REFRESH_KEY)) {
    await refresh();
    response = await send(path, options);
  }
  if (!response.ok) throw await failure(response);
  return response;
}

// JSON in, JSON out (null for 204).
export async function api(path, options = {}) {
  const response = await call(path, options);
  return response.status === 204 ? null : response.json();
}

// A file the API sends as an attachment: the blob and its file name.
export async function download(path) {
  const response = await call(path);
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition);
  return { blob: await response.blob(), filename: name ? name[1] : "download" };
}

export async function signIn(username, password) {
  const response = await send("/api/auth/token", {
    method: "POST",
    body: { username, password },
    auth: false,
  });
  if (!response.ok) throw await failure(response);
  keep(await response.json());
}

export async function register(username, password) {
  await api("/api/auth/register", {
    method: "POST",
    body: { username, password },
    auth: false,
  });
  await signIn(username, password);
}

export async function signOut() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  forget();
  if (token) {
    // Revoke it; the tab forgets it whether or not the server answers.
    await send("/api/auth/logout", {
      method: "POST",
      body: { refresh: token },
      auth: false,
    }).catch(() => {});
  }
}

// A random UUID (version 4), also outside secure contexts.
export function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
