import { createHmac, timingSafeEqual } from "node:crypto";

/** The X-Registry-Signature-256 value: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the secret>. Pure. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** What a receiver does (and the README's snippet shows): recompute and compare in constant time. Pure. */
export function verifySignature(secret: string, timestamp: string, body: string, header: string | null | undefined): boolean {
  const want = Buffer.from(signature(secret, timestamp, body));
  const got = Buffer.from(header ?? "");
  return got.length === want.length && timingSafeEqual(got, want);
}
