import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The receiver's own check of X-Registry-Signature-256, computed here from the secret it was given. */
  signatureValid: boolean;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Milliseconds to wait before answering (to make senders overlap). */
  delayMs: number;
  /** What to answer: a status (and headers); default 204. */
  answer: (r: Received) => { status: number; headers?: Record<string, string> };
  close: () => Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1, as a user would write one: it reads the raw body, recomputes the
 * HMAC-SHA256 of "<timestamp>.<body>" with its secret, and compares. `port` 0 picks a free port.
 */
export async function startReceiver(secret: string, port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const r: Receiver = { url: "", port: 0, received, delayMs: 0, answer: () => ({ status: 204 }), close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const ts = String(req.headers["x-registry-timestamp"] ?? "");
      const expected = `sha256=${createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex")}`;
      const got: Received = { path: req.url ?? "", headers: req.headers, body, signatureValid: req.headers["x-registry-signature-256"] === expected };
      received.push(got);
      const a = r.answer(got);
      setTimeout(() => {
        res.writeHead(a.status, a.headers ?? {});
        res.end();
      }, r.delayMs);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hooks/registry`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}
