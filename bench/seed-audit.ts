// Fills an audit database with N chained events (for the audit page benchmark), as the real log would hold them.
import { createHash, randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { eventHash, GENESIS, type HashedEvent } from "../lib/audit/chain";
import { migrateDatabase } from "../lib/audit/migrate";

export function seedAudit(file: string, n: number, migrations: string): void {
  migrateDatabase(file, migrations);
  const db = new Database(file);
  const insert = db.prepare(
    `INSERT INTO AuditEvent (seq, at, actor, role, source, action, outcome, correlationId, fromStem, fromSha256, fromScore, toStem, toSha256, toScore, metric, reason, checks, details, prevHash, hash)
     VALUES (@seq, @at, @actor, @role, @source, @action, @outcome, @correlationId, @fromStem, @fromSha256, @fromScore, @toStem, @toSha256, @toScore, @metric, @reason, @checks, @details, @prevHash, @hash)`,
  );
  const actions = ["model.promotion_started", "model.promoted", "model.promotion_refused", "model.rolled_back"];
  const checks = JSON.stringify([
    { name: "metrics_exist", passed: true, detail: "ok", evidence: {} },
    { name: "min_score", passed: true, detail: "0.65 ≥ 0.60", evidence: { score: 0.65 } },
  ]);
  // After what is there already (creating the bench account is itself an audited event).
  const head = db.prepare("SELECT seq, hash FROM AuditEvent ORDER BY seq DESC LIMIT 1").get() as { seq: number; hash: string } | undefined;
  let prev = head?.hash ?? GENESIS;
  const first = (head?.seq ?? 0) + 1;
  const start = Date.UTC(2024, 0, 1);
  db.transaction(() => {
    for (let i = first; i < first + n; i++) {
      const e: HashedEvent = {
        seq: i,
        at: new Date(start + i * 60_000).toISOString(),
        actor: `user${i % 17}`,
        role: "releaser",
        source: i % 3 ? "web" : "cli",
        action: actions[i % actions.length] as string,
        outcome: i % 4 === 2 ? "refused" : "succeeded",
        correlationId: randomUUID(),
        fromStem: `gbm_2024${String((i % 12) + 1).padStart(2, "0")}01T000000Z`,
        fromSha256: createHash("sha256").update(`f${i}`).digest("hex"),
        fromScore: 0.6,
        toStem: `gbm_2024${String(((i + 1) % 12) + 1).padStart(2, "0")}01T000000Z`,
        toSha256: createHash("sha256").update(`t${i}`).digest("hex"),
        toScore: 0.65,
        metric: "pr_auc",
        reason: "nightly release",
        checks,
        details: "{}",
      };
      const hash = eventHash(prev, e);
      insert.run({ ...e, prevHash: prev, hash });
      prev = hash;
    }
  })();
  db.close();
}
