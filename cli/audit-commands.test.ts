import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeAudit, databaseFile, openAudit, recordEvent } from "@/lib/audit";
import { recordRefusal } from "@/lib/audit/refusals";
import { POSTGRES_OFF, sqlOn, throwawayDatabase } from "@/lib/db/test-support/postgres";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { main } from "./main";

const PASSWORD = "correct-horse-battery-staple-42";
let root: string;
beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../prisma/migrations");
  root = tempRegistry();
});
afterEach(async () => {
  await closeAudit();
  removeRegistry(root);
});

async function run(...args: string[]) {
  const lines: string[] = [];
  let json: unknown = null;
  const code = await main([...args, "--root", root], {
    json: false,
    print: (t) => lines.push(t),
    printJson: (v) => {
      json = v;
    },
  });
  return { code, text: lines.join("\n"), json: json as Record<string, unknown> };
}

/** A log holding what the pre-issue-16 wrapper wrote for a refused create-user, and a hostile reason. */
async function leakyLog(): Promise<void> {
  const db = openAudit(root);
  const admin = { name: "alice", role: "admin", source: "web" as const };
  await recordEvent(db, admin, { action: "user.created", outcome: "succeeded", reason: '=HYPERLINK("http://evil.example","x")' });
  await recordEvent(db, admin, {
    action: "request.rejected",
    outcome: "refused",
    reason: "Refused user.create: invalid input (role).",
    details: { action: "user.create", input: { password: JSON.stringify(PASSWORD) } },
  });
  await recordEvent(db, admin, { action: "audit.exported", outcome: "succeeded", reason: "@SUM(A1)" });
  await closeAudit();
}

const fileText = () => readFileSync(databaseFile(root)).toString("latin1");

describe("registry audit redact", () => {
  it("redacts, re-chains and records it; verify passes and the file no longer holds the secret", async () => {
    await leakyLog();
    const redacted = await run(
      "audit",
      "redact",
      "--seq",
      "2",
      "--field",
      "details.input",
      "--reason",
      "password in a refused form",
      "--actor",
      "ops",
      "--json",
    );
    expect(redacted.code).toBe(0);
    expect(redacted.json).toMatchObject({
      dryRun: false,
      redacted: [{ seq: 2, action: "request.rejected", field: "details.input" }],
      anchor: { seq: 1 },
      oldHead: { seq: 3 },
      newHead: { seq: 3 },
      rechained: 2,
      event: { seq: 4 },
      compacted: true,
    });
    expect(fileText().includes(PASSWORD)).toBe(false);
    const verified = await run("audit", "verify", "--json");
    expect(verified).toMatchObject({ code: 0, json: { ok: true, count: 4 } });
    const listed = await run("audit", "list", "--action", "audit.redacted", "--json");
    expect(listed.json.events).toEqual([
      expect.objectContaining({ seq: 4, actor: "ops", reason: "password in a refused form", source: "cli" }),
    ]);
  });

  it("finds old refused-input previews itself, and a dry run says what it would do and writes nothing", async () => {
    await leakyLog();
    // verify points the operator at them.
    const verified = await run("audit", "verify");
    expect(verified.code).toBe(0);
    expect(verified.text).toContain("1 refused-input event(s) (#2) keep what was typed");
    expect((await run("audit", "verify", "--json")).json).toMatchObject({ ok: true, rejectedInputs: [2] });
    const dry = await run("audit", "redact", "--rejected-inputs", "--reason", "upgrade clean-up", "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.text).toContain("[dry run] Would redact details.input of #2 and re-chain 2 events (#2 to #3).");
    expect(dry.text).toContain("nothing was written");
    expect(fileText().includes(PASSWORD)).toBe(true);
    const done = await run("audit", "redact", "--rejected-inputs", "--reason", "upgrade clean-up");
    expect(done.code).toBe(0);
    expect(done.text).toContain("Recorded as #4 audit.redacted.");
    expect(done.text).toContain("The database file was compacted");
    const again = await run("audit", "redact", "--rejected-inputs", "--reason", "upgrade clean-up");
    expect(again).toMatchObject({ code: 0, text: "No event holds refused input: nothing to redact." });
    expect((await run("audit", "verify")).text).not.toContain("refused-input");
  });

  it("refuses bad usage with exit 2 and a broken chain with exit 3, changing nothing", async () => {
    await leakyLog();
    const before = readFileSync(databaseFile(root));
    for (const args of [
      ["--seq", "2", "--field", "details.input"],
      ["--seq", "2", "--field", "details.input", "--reason", " "],
      ["--seq", "two", "--field", "details", "--reason", "why not"],
      ["--seq", "2", "--reason", "no field"],
      ["--seq", "2", "--field", "actor", "--reason", "not redactable"],
      ["--rejected-inputs", "--seq", "2", "--reason", "both"],
    ]) {
      const r = await run("audit", "redact", ...args, "--json");
      expect(r.code, args.join(" ")).toBe(2);
      expect((r.json.error as { code: string }).code).toBe("invalid_input");
    }
    expect(readFileSync(databaseFile(root)).equals(before)).toBe(true);

    const raw = new Database(databaseFile(root));
    raw.prepare(`UPDATE "AuditEvent" SET actor = 'mallory' WHERE seq = 3`).run();
    raw.close();
    const refused = await run("audit", "redact", "--seq", "2", "--field", "details", "--reason", "would launder the edit", "--json");
    expect(refused.code).toBe(3);
    expect((refused.json.error as { message: string }).message).toMatch(/already broken .*nothing was changed/);
    expect(fileText().includes(PASSWORD)).toBe(true);
  });
});

describe.skipIf(POSTGRES_OFF)("registry audit redact on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof throwawayDatabase>>;
  beforeEach(async () => {
    database = await throwawayDatabase();
    process.env.REGISTRY_DATABASE_URL = database.url;
  });
  afterEach(async () => {
    await closeAudit();
    delete process.env.REGISTRY_DATABASE_URL;
    await database.drop();
  });

  /** Every reason and details text the audit table holds, read straight from the server. */
  const tableText = async () =>
    String((await sqlOn(database.url, `SELECT string_agg(coalesce("reason", '') || "details", '') AS t FROM "AuditEvent"`)).rows[0]?.t);

  it("finds, redacts, re-chains and records it, as on SQLite; verify passes and the table no longer holds the secret", async () => {
    await leakyLog();
    expect((await run("audit", "verify", "--json")).json).toMatchObject({ ok: true, count: 3, rejectedInputs: [2] });
    const dry = await run("audit", "redact", "--rejected-inputs", "--reason", "upgrade clean-up", "--dry-run");
    expect(dry.text).toContain("[dry run] Would redact details.input of #2 and re-chain 2 events (#2 to #3).");
    expect(await tableText()).toContain(PASSWORD);

    const redacted = await run(
      "audit",
      "redact",
      "--rejected-inputs",
      "--reason",
      "password in a refused form",
      "--actor",
      "ops",
      "--json",
    );
    expect(redacted.code).toBe(0);
    expect(redacted.json).toMatchObject({
      dryRun: false,
      redacted: [{ seq: 2, action: "request.rejected", field: "details.input" }],
      anchor: { seq: 1 },
      oldHead: { seq: 3 },
      rechained: 2,
      event: { seq: 4 },
      compacted: true,
    });
    expect(await tableText()).not.toContain(PASSWORD);
    expect(await run("audit", "verify", "--json")).toMatchObject({ code: 0, json: { ok: true, count: 4 } });
    expect((await run("audit", "verify", "--json")).json.rejectedInputs).toBeUndefined();
    const listed = await run("audit", "list", "--action", "audit.redacted", "--json");
    expect(listed.json.events).toEqual([
      expect.objectContaining({ seq: 4, actor: "ops", reason: "password in a refused form", source: "cli" }),
    ]);
    // Writers carry on from the new head; a second redaction (a reason this time) chains on too.
    const reason = await run("audit", "redact", "--seq", "3", "--field", "reason", "--reason", "formula in a reason", "--json");
    expect(reason).toMatchObject({ code: 0, json: { redacted: [{ seq: 3 }], event: { seq: 5 } } });
    expect(await run("audit", "verify", "--json")).toMatchObject({ code: 0, json: { ok: true, count: 5 } });
    expect(await run("audit", "redact", "--compact", "--json")).toMatchObject({ code: 0, json: { compacted: true } });
  });

  it("appends made while it re-chains wait for it and link to its new head: one chain, intact", async () => {
    await leakyLog();
    const db = openAudit(root);
    const writer = { name: "dashboard", role: "admin", source: "web" as const };
    const [redacted] = await Promise.all([
      run("audit", "redact", "--seq", "2", "--field", "details.input", "--reason", "password in a refused form", "--json"),
      // Some without a reason: a null column re-chains as null.
      ...Array.from({ length: 20 }, (_, i) =>
        recordEvent(db, writer, { action: "audit.exported", outcome: "succeeded", ...(i % 2 ? { reason: `w${i}` } : {}) }),
      ),
    ]);
    expect(redacted.code).toBe(0);
    expect(await run("audit", "verify", "--json")).toMatchObject({ code: 0, json: { ok: true, count: 24 } });
    expect(await tableText()).not.toContain(PASSWORD);
    const again = await run("audit", "redact", "--seq", "3", "--field", "reason", "--reason", "formula in a reason", "--json");
    expect(again).toMatchObject({ code: 0, json: { rechained: 22, event: { seq: 25 } } });
    expect(await run("audit", "verify", "--json")).toMatchObject({ code: 0, json: { ok: true, count: 25 } });
  });

  it("refuses on a broken chain with exit 3, changing nothing", async () => {
    await leakyLog();
    await sqlOn(database.url, `UPDATE "AuditEvent" SET "actor" = 'mallory' WHERE "seq" = 3`);
    const refused = await run("audit", "redact", "--seq", "2", "--field", "details", "--reason", "would launder the edit", "--json");
    expect(refused.code).toBe(3);
    expect((refused.json.error as { message: string }).message).toMatch(/already broken .*nothing was changed/);
    expect(await tableText()).toContain(PASSWORD);
    expect((await run("audit", "list", "--action", "audit.redacted", "--json")).json.events).toEqual([]);
  });
});

describe("registry audit export --format csv", () => {
  it("writes neutralised formula cells that registry audit verify --file still proves", async () => {
    await leakyLog();
    const out = join(root, "log.csv");
    expect((await run("audit", "export", "--format", "csv", "--out", out)).code).toBe(0);
    const csv = readFileSync(out, "utf8");
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(csv).toContain(`"'@SUM(A1)"`);
    expect((await run("audit", "verify", "--file", out, "--json")).json).toMatchObject({ ok: true, count: 3, format: "csv" });
  });
});

describe("refusals counted while no server runs", () => {
  it("audit list and export write the summary of a closed window first, so a stopped server hides no count", async () => {
    const db = openAudit(root);
    const minuteAgo = new Date(Date.now() - 5 * 60_000);
    // Anonymous refusals from one address: the first is chained at once, the others only counted.
    for (let i = 0; i < 7; i++) {
      await recordRefusal(
        db,
        { kind: "auth.denied", user: null, address: "203.0.113.9", action: "model.apply", reason: "Sign in first." },
        minuteAgo,
      );
    }
    await closeAudit();
    const listed = await run("audit", "list", "--action", "auth.denied_aggregated", "--json");
    expect(listed.code).toBe(0);
    const events = listed.json.events as { action: string; details: string }[];
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]?.details ?? "{}")).toMatchObject({ count: 6 });
    // Written once: a second reader finds nothing left to summarise.
    expect((await run("audit", "list", "--action", "auth.denied_aggregated", "--json")).json.events).toHaveLength(1);
    expect((await run("audit", "verify")).code).toBe(0);
  });
});
