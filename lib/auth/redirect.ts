/**
 * Where to send someone after sign-in: the path they asked for, when it is a path on this site, else "/".
 * An open redirect here would hand a freshly signed-in browser to a phishing page, so anything unusual falls
 * back home: a scheme or host, a path a browser would read as another host ("//x", "/\x", "/.//x"), control,
 * format or line-separator characters, raw or percent-encoded at any depth. Pure.
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== "string" || next.length === 0 || next.length > MAX_NEXT) return HOME;
  let layer = next;
  // Browsers, proxies and Next each decode once somewhere: every layer of decoding must be harmless.
  for (let depth = 0; depth < MAX_DECODING; depth++) {
    if (!looksLocal(layer)) return HOME;
    let decoded: string;
    try {
      decoded = decodeURIComponent(layer);
    } catch {
      return HOME;
    }
    if (decoded === layer) break;
    layer = decoded;
  }
  if (!looksLocal(layer)) return HOME;
  let url: URL;
  try {
    url = new URL(next, OUR_ORIGIN);
  } catch {
    return HOME;
  }
  if (url.origin !== OUR_ORIGIN) return HOME;
  // What we send is the normalised form ("/a/../b" is "/b"), percent-encoded, so it must be checked again.
  const path = `${url.pathname}${url.search}${url.hash}`;
  return looksLocal(path) ? path : HOME;
}

const HOME = "/";
const MAX_NEXT = 2000;
const MAX_DECODING = 4;
// Any fixed origin will do: only paths on it are accepted, and only the path is returned.
const OUR_ORIGIN = "http://registry.invalid";
// Controls, format characters (bidi overrides, zero-width), line and paragraph separators, and backslashes.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\\]/u;

function looksLocal(path: string): boolean {
  return path.startsWith("/") && !path.startsWith("//") && !FORBIDDEN.test(path);
}
