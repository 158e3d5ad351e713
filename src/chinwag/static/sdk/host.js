// Where the Chinwag server is: the origin this script was loaded from, unless `host` says otherwise.

export const SCRIPT_URL = import.meta.url;

/** The server's HTTP base URL (no trailing slash). `host` may be "example.com:8000" or a URL. */
export function serverBase(host) {
  if (host) {
    const text = String(host).replace(/\/+$/, "");
    return /^https?:\/\//.test(text) ? text : `${location.protocol === "https:" ? "https" : "http"}://${text}`;
  }
  return new URL(SCRIPT_URL, location.href).origin;
}

/** The WebSocket base URL matching an HTTP base URL. */
export function socketBase(httpBase) {
  return httpBase.replace(/^http/, "ws");
}
