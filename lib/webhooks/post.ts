import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { PrivateAddressError } from "./errors";
import { signature } from "./sign";
import { type AddressPolicy, checkedLookup, hostOf, isRefusedAddress, privateError } from "./target";

/** A whole attempt (connect, send, answer) takes at most this long. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** Of the receiver's answer only this much is read: its status is what counts. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface Attempt {
  /** The receiver's HTTP status, or null when none came back. */
  status: number | null;
  /** Why the attempt failed, in words that quote no secret; null when delivered. */
  error: string | null;
  durationMs: number;
}

export interface Message {
  url: string;
  secret: string;
  type: string;
  deliveryId: string;
  body: string;
}

/**
 * POSTs one signed delivery: headers X-Registry-Event, -Delivery, -Timestamp and -Signature-256. Checks
 * the address it connects to against `policy`, follows no redirect (a 3xx is a failure), gives up after
 * ATTEMPT_TIMEOUT_MS and reads at most 64 KiB of the answer. Delivered means a 2xx answer. Never throws.
 */
export async function postSigned(m: Message, policy: AddressPolicy, timeoutMs = ATTEMPT_TIMEOUT_MS, now = Date.now): Promise<Attempt> {
  const started = now();
  const done = (status: number | null, error: string | null): Attempt => ({ status, error, durationMs: Math.max(0, now() - started) });
  let url: URL;
  try {
    url = new URL(m.url);
  } catch {
    return done(null, "The stored URL does not parse.");
  }
  const host = hostOf(url);
  if (isIP(host) && isRefusedAddress(host, policy)) return done(null, privateError(host).message);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(m.body)),
    "user-agent": "model-registry-webhooks/1",
    "x-registry-event": m.type,
    "x-registry-delivery": m.deliveryId,
    "x-registry-timestamp": timestamp,
    "x-registry-signature-256": signature(m.secret, timestamp, m.body),
  };
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    const finish = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(done(status, error));
    };
    const req = send(url, { method: "POST", headers, agent: false, lookup: checkedLookup(policy) as never });
    const timer = setTimeout(() => {
      finish(null, `No answer within ${timeoutMs / 1000} s.`);
      req.destroy();
    }, timeoutMs);
    req.on("response", (res: IncomingMessage) => readBounded(res, () => finish(res.statusCode ?? null, judge(res.statusCode))));
    req.on("error", (e: NodeJS.ErrnoException) => finish(null, e instanceof PrivateAddressError ? e.message : networkError(e)));
    req.end(m.body);
  });
}

function judge(status: number | undefined): string | null {
  if (status === undefined) return "No status in the answer.";
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) return `The receiver answered ${status} (a redirect): redirects are not followed.`;
  return `The receiver answered ${status}.`;
}

/** Reads at most MAX_ANSWER_BYTES of the answer and then calls `then`, once. */
function readBounded(res: IncomingMessage, then: () => void): void {
  let seen = 0;
  let called = false;
  const end = () => {
    if (called) return;
    called = true;
    then();
  };
  res.on("data", (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > MAX_ANSWER_BYTES) {
      res.destroy();
      end();
    }
  });
  res.on("end", end);
  res.on("close", end);
  res.on("error", end);
}

/** A network error as words: its code and message, which name the host or address but hold no header. */
function networkError(e: NodeJS.ErrnoException): string {
  return `${e.code ? `${e.code}: ` : ""}${e.message}`.slice(0, 300);
}
