// The console's one way to the server. The token lives in this module's memory only: never in
// storage, a cookie or the address bar, so closing or reloading the tab ends the session.

let token = null;
let ownToken = false; // made by this console's login: revoked on log out

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function signedIn() {
  return token !== null;
}

export function useToken(value, own) {
  token = value;
  ownToken = own;
}

export async function signOut() {
  if (token !== null && ownToken) {
    try {
      await native("POST", "auth/token/revoke-self");
    } catch {
      // Already gone or expired: forgetting it is all that is left.
    }
  }
  token = null;
  ownToken = false;
}

async function send(method, url, body) {
  const headers = { Accept: "application/json" };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, credentials: "omit", cache: "no-store", redirect: "error" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "unreachable", "The server did not answer; is it running?");
  }
  if (response.status === 204) return null;
  let doc = null;
  try {
    doc = await response.json();
  } catch {
    doc = null;
  }
  if (!response.ok) {
    if (response.status === 401 && token !== null) {
      token = null;
      window.dispatchEvent(new Event("strongroom:signed-out"));
    }
    const native = doc && doc.error;
    const vault = doc && Array.isArray(doc.errors) ? doc.errors.join("; ") : null;
    const message = native ? native.message : vault || `HTTP ${response.status}`;
    throw new ApiError(response.status, native ? native.code : "error", message);
  }
  return doc;
}

function encodePath(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}

// The native API: native("GET", ["secrets", ns, path]) or a plain path string; `params`, if
// given, become the query string.
export function native(method, path, body, params) {
  let url = "/api/v1/" + (Array.isArray(path) ? path.map(encodePath).join("/") : path);
  const pairs = Object.entries(params || {}).filter(([, v]) => v !== "" && v !== undefined && v !== null);
  if (pairs.length) url += "?" + new URLSearchParams(pairs.map(([k, v]) => [k, String(v)]));
  return send(method, url, body);
}

// The Vault API, for what only it has (token accessors, capabilities of another token).
export function vault(method, path, body) {
  return send(method, "/v1/" + path, body);
}
