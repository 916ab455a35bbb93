// What proxy.ts checks before Next sees a request: an unsafe request from another origin is refused (403,
// audited), and a server-action request that none of our pages could have sent is answered 400 (413 when
// too large) instead of reaching Next's decoder, which answers garbage with a 500. Pure: no Next, no I/O.

/** Next's own limit for a server action's body (serverActions.bodySizeLimit). */
export const ACTION_BODY_LIMIT = 1024 * 1024;
const MAX_DEPTH = 64;
const MAX_VALUES = 100_000;
const MAX_PARTS = 1_000;
// Next 16's action ids: one byte of metadata and a 160-bit hash, in hex.
const ACTION_ID = /^[0-9a-f]{42}$/;
// Values React's reply encoding writes inline (an escaped string, undefined, the odd numbers, a bigint, a
// date, a temporary reference); anything else starting with "$" points at another part of the body.
const INLINE = /^\$(?:\$[\s\S]*|undefined|NaN|Infinity|-Infinity|-0|T|n-?\d{1,300}|D[^\s]{1,40})$/;
// References our forms' requests can hold: a chunk, a Map, a Set, an iterable, a FormData, a Blob.
const REFERENCE = /^\$([@QWiKB])([0-9a-f]{1,8})$/;

export class MalformedRequest extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 = 400,
  ) {
    super(message);
  }
}

type HeaderGet = (name: string) => string | null;

/** Whether a request must not change anything (its method is safe). */
export function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}

/**
 * The request's origin when it names another host than the one the request was sent to (Next's own rule
 * for server actions: the Origin's host against x-forwarded-host, else Host), as a short printable string;
 * null when same-origin or when there is no Origin (not a browser: no cookies it did not choose to send).
 */
export function foreignOrigin(get: HeaderGet): string | null {
  const origin = get("origin");
  if (origin === null) return null;
  if (origin === "null") return "null";
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return "(unreadable)";
  }
  const expected = get("x-forwarded-host")?.split(",")[0]?.trim() || get("host");
  return expected && url.host === expected ? null : url.origin.slice(0, 200);
}

/** Whether Next would treat this request as a server action (a fetch call, or a form posted without JavaScript). */
export function isActionRequest(method: string, get: HeaderGet): boolean {
  return method === "POST" && (get("next-action") !== null || mimeOf(get("content-type")) === "multipart/form-data");
}

/** The Next-Action id when it is one Next could have issued (hex, bounded); else null. */
export function actionIdOf(get: HeaderGet): string | null {
  const id = get("next-action");
  return id && ACTION_ID.test(id) ? id : null;
}

/**
 * Checks a server-action request (see isActionRequest) against what our pages send: a well-formed id, a
 * body within Next's limit, and a body in React's reply encoding whose references all point at parts
 * that were sent, nested no deeper than any form needs. Throws MalformedRequest saying what is wrong.
 */
export async function checkActionRequest(get: HeaderGet, body: Uint8Array): Promise<void> {
  if (body.byteLength > ACTION_BODY_LIMIT) throw new MalformedRequest("The request body is larger than a server action accepts.", 413);
  const fetchCall = get("next-action") !== null;
  if (fetchCall && !actionIdOf(get)) throw new MalformedRequest("The Next-Action header is not a server action id.");
  const contentType = get("content-type");
  const mime = mimeOf(contentType);
  if (mime === "multipart/form-data") {
    const form = await parseMultipart(contentType as string, body);
    if (!fetchCall) return checkFormPost(form);
    const root = form.get("0");
    if (typeof root !== "string") throw new MalformedRequest("The body has no argument list (part 0).");
    checkReply(root, (id) => form.get(id));
    return;
  }
  if (!fetchCall) return;
  if (mime !== "text/plain") throw new MalformedRequest("A server action's body is multipart/form-data or text/plain.");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    throw new MalformedRequest("The body is not UTF-8 text.");
  }
  checkReply(text, () => null);
}

/** Checks a reply-encoded argument list: JSON, an array at the root, every reference resolvable. */
export function checkReply(root: string, part: (id: string) => FormDataEntryValue | null): void {
  let values = 0;
  const followed = new Set<string>();
  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw new MalformedRequest("The body is not in the encoding our pages send (not JSON).");
    }
  };
  const visit = (value: unknown, depth: number): void => {
    if (++values > MAX_VALUES) throw new MalformedRequest("The body holds more values than any form sends.");
    if (depth > MAX_DEPTH) throw new MalformedRequest("The body is nested deeper than any form sends.");
    if (typeof value === "string") reference(value, depth);
    else if (Array.isArray(value)) for (const item of value) visit(item, depth + 1);
    else if (value !== null && typeof value === "object") for (const item of Object.values(value)) visit(item, depth + 1);
  };
  const reference = (s: string, depth: number): void => {
    if (s[0] !== "$" || INLINE.test(s)) return;
    const m = REFERENCE.exec(s);
    if (!m) throw new MalformedRequest("The body holds a kind of value our pages never send.");
    const [, tag, hex] = m;
    if (tag === "K") return; // a FormData gathered from prefixed entries: none is an empty one
    const id = String(Number.parseInt(hex as string, 16));
    const target = part(id);
    if (target === null) throw new MalformedRequest("The body refers to a part that was not sent.");
    if (tag === "B") return;
    if (typeof target !== "string") throw new MalformedRequest("The body refers to a file where a value belongs.");
    if (followed.has(id)) return;
    followed.add(id);
    visit(parse(target), depth + 1);
  };
  const args = parse(root);
  if (!Array.isArray(args)) throw new MalformedRequest("The body is not an argument list.");
  visit(args, 0);
}

/** A form posted without JavaScript: any action id it names must be one Next could have issued. */
function checkFormPost(form: FormData): void {
  for (const key of form.keys()) {
    if (key.startsWith("$ACTION_ID_") && !ACTION_ID.test(key.slice("$ACTION_ID_".length))) {
      throw new MalformedRequest("The form names a server action id that is not one.");
    }
  }
}

async function parseMultipart(contentType: string, body: Uint8Array): Promise<FormData> {
  if (!/;\s*boundary=/i.test(contentType)) throw new MalformedRequest("The multipart body has no boundary.");
  let form: FormData;
  try {
    form = await new Response(new Blob([new Uint8Array(body)]), { headers: { "content-type": contentType } }).formData();
  } catch {
    throw new MalformedRequest("The body is not valid multipart/form-data.");
  }
  let parts = 0;
  for (const _ of form.keys()) if (++parts > MAX_PARTS) throw new MalformedRequest("The body has more parts than any form sends.");
  return form;
}

function mimeOf(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
