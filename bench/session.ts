// Opens a session for a benchmark account directly in the database (the benchmark measures pages, not sign-in).
import { createHash, randomBytes } from "node:crypto";
import Database from "better-sqlite3";

export function openBenchSession(file: string, username: string): string {
  const db = new Database(file);
  const user = db.prepare("SELECT id FROM User WHERE username = ?").get(username) as { id: number };
  const token = randomBytes(32).toString("base64url");
  const now = new Date();
  db.prepare("INSERT INTO Session (id, userId, createdAt, expiresAt, address) VALUES (?, ?, ?, ?, ?)").run(
    createHash("sha256").update(token).digest("hex"),
    user.id,
    now.toISOString(),
    new Date(now.getTime() + 3_600_000).toISOString(),
    "bench",
  );
  db.close();
  return token;
}
