import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { STATE_DIR } from "@/lib/registry";

// Webhook secrets must be stored to sign with, so they are encrypted (AES-256-GCM) with a key kept in the
// registry folder, not in the database. What this protects: a copy of the database alone (a backup, a
// PostgreSQL server run by someone else, DATABASE_URL on shared storage) reveals no secret. What it does
// not: whoever can read both the database and <root>/.registry/webhook-secrets.key can sign as us.

export const KEY_FILE = "webhook-secrets.key";
const VERSION = "v1";

export class SecretBoxError extends Error {}

/** The key file of a registry, created (32 random bytes, mode 0600, written atomically) on first use. */
export function secretKey(root: string): Buffer {
  const dir = join(root, STATE_DIR);
  const file = join(dir, KEY_FILE);
  try {
    return checked(readFileSync(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${KEY_FILE}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, randomBytes(32));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link, not rename: of two processes creating the key at once, the first wins and the other reads it.
    linkSync(tmp, file);
    const dirFd = openSync(dir, "r");
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    unlinkSync(tmp);
  }
  return checked(readFileSync(file));
}

function checked(key: Buffer): Buffer {
  if (key.length !== 32) throw new SecretBoxError(`${KEY_FILE} is not a 32-byte key: restore it, or remove and re-add every webhook.`);
  return key;
}

/** Encrypts a secret for the database. */
export function seal(key: Buffer, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), body].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
}

/** Decrypts a sealed secret; throws SecretBoxError (naming no secret) when the key does not open it. */
export function open(key: Buffer, sealed: string): string {
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || body === undefined) throw new SecretBoxError("The stored webhook secret is not in a known format.");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new SecretBoxError(`The webhook secret cannot be decrypted with ${KEY_FILE}: was the key file replaced?`);
  }
}
