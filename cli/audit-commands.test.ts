import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeAudit, databaseFile, openAudit, recordEvent } from "@/lib/audit";
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
