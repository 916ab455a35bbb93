import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError, RefusedError } from "@/lib/registry";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { closeAudit, databaseFile, openAudit } from "./db";
import { toJsonExport, verifyExport } from "./export";
import { type Actor, allEvents, recordEvent, verifyStoredChain } from "./log";
import { compactDatabase, eventsWithRejectedInput, redactEvents } from "./redact";

const operator: Actor = { name: "ops-oncall", role: "cli", source: "cli" };
const PASSWORD = "Tr0ub4dor&3-horse-battery";
let root: string;
let file: string;

beforeEach(() => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
  root = tempRegistry();
  file = databaseFile(root);
});
afterEach(async () => {
  await closeAudit();
  removeRegistry(root);
});

/** Every byte of the database on disk: the file, its write-ahead log and shared memory. */
function onDisk(): string {
  return [file, `${file}-wal`, `${file}-shm`]
    .filter(existsSync)
    .map((f) => readFileSync(f).toString("latin1"))
    .join("\n");
}

/**
 * A log as the code before issue 16 left it: a refused create-user whose details kept a preview of the
 * input, the new account's password included, with ordinary events before and after.
 */
async function leakyLog() {
  const db = openAudit(root);
  const alice: Actor = { name: "alice", role: "admin", source: "web" };
  await recordEvent(db, alice, { action: "user.created", outcome: "succeeded", reason: "Created bob with viewer." });
  await recordEvent(db, alice, {
    action: "request.rejected",
    outcome: "refused",
    reason: "Refused user.create: invalid input (role).",
    details: {
      action: "user.create",
      permission: "users.manage",
      fieldErrors: { role: ["Choose at least one role."] },
      input: { username: '"eve"', password: JSON.stringify(PASSWORD) },
    },
  });
  await recordEvent(db, alice, { action: "user.created", outcome: "succeeded", reason: `pasted by mistake: ${PASSWORD}` });
  for (let i = 0; i < 5; i++) await recordEvent(db, alice, { action: "audit.exported", outcome: "succeeded", reason: `export ${i}` });
  return db;
}

describe("registry audit redact: a secret already in the chained log", () => {
  it("replaces the field, re-chains, records why, and leaves no trace of the secret in the file", async () => {
    const db = await leakyLog();
    const before = await allEvents(db);
    const oldExport = toJsonExport(before);
    expect(onDisk().includes(PASSWORD)).toBe(true);

    const first = await redactEvents(file, {
      seqs: [2],
      field: "details.input",
      reason: "Password typed into a refused form",
      actor: operator,
    });
    const mid = await allEvents(db);
    const second = await redactEvents(file, { seqs: [3], field: "reason", reason: "Password pasted into a reason", actor: operator });

    expect(first).toMatchObject({
      dryRun: false,
      redacted: [{ seq: 2, action: "request.rejected", field: "details.input", oldHash: before[1]?.hash }],
      anchor: { seq: 1, hash: before[0]?.hash },
      oldHead: { seq: 8, hash: before[7]?.hash },
      rechained: 7,
      event: { seq: 9 },
      compacted: true,
    });
    expect(second).toMatchObject({ anchor: { seq: 2 }, oldHead: { seq: 9, hash: first.event?.hash }, event: { seq: 10 }, compacted: true });

    // The chain holds, the secret is gone from every byte of the database, the rest of each event stays.
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 10 });
    expect(onDisk().includes(PASSWORD), "the file still holds the password").toBe(false);
    expect(onDisk().includes("Tr0ub4dor"), "the file still holds part of it").toBe(false);
    const after = await allEvents(db);
    expect(JSON.parse(after[1]?.details ?? "")).toEqual({
      action: "user.create",
      permission: "users.manage",
      fieldErrors: { role: ["Choose at least one role."] },
      input: "[redacted: see #9 audit.redacted]",
    });
    expect(after[2]?.reason).toBe("[redacted: see #10 audit.redacted]");
    expect(after.slice(3, 8).map((e) => e.reason)).toEqual(before.slice(3, 8).map((e) => e.reason));

    // The redaction is itself an event: who, why, which events, and the heads an older export can be matched to.
    const event = after[8];
    expect(event).toMatchObject({ action: "audit.redacted", outcome: "succeeded", actor: "ops-oncall", source: "cli" });
    expect(event?.reason).toBe("Password typed into a refused form");
    const details = JSON.parse(event?.details ?? "");
    expect(details).toMatchObject({
      field: "details.input",
      oldHead: { seq: 8, hash: before[7]?.hash },
      newHead: { seq: 8, hash: mid[7]?.hash },
    });
    // The export from before still verifies on its own, matches up to the anchor, and its head is the recorded old head.
    expect(verifyExport(oldExport)).toMatchObject({ ok: true, headHash: details.oldHead.hash });
    expect(after[0]?.hash).toBe(before[0]?.hash);
    expect(after[1]?.hash).not.toBe(before[1]?.hash);

    // Writers carry on from the new head.
    await recordEvent(db, operator, { action: "audit.exported", outcome: "succeeded" });
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 11 });
  });

  it("finds the events the old wrapper left refused input in, and a dry run writes nothing", async () => {
    const db = await leakyLog();
    expect(await eventsWithRejectedInput(db)).toEqual([2]);
    const before = await allEvents(db);
    const dry = await redactEvents(file, { seqs: [2], field: "details.input", reason: "checking first", actor: operator, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, redacted: [{ seq: 2 }], event: null, compacted: false, rechained: 7 });
    expect(await allEvents(db)).toEqual(before);
    expect(onDisk().includes(PASSWORD)).toBe(true);
    await redactEvents(file, { seqs: [2], field: "details.input", reason: "for real", actor: operator });
    expect(await eventsWithRejectedInput(db)).toEqual([]);
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true });
  });

  it("refuses without a reason, for an unknown event or field, twice, and on a broken chain, changing nothing", async () => {
    const db = await leakyLog();
    const before = await allEvents(db);
    const attempt =
      (seqs: number[], field: string, reason = "a good reason") =>
      () =>
        redactEvents(file, { seqs, field, reason, actor: operator });
    await expect(attempt([2], "details.input", "  ")()).rejects.toThrow(InvalidInputError);
    await expect(attempt([], "details")()).rejects.toThrow(/--seq/);
    await expect(attempt([99], "details")()).rejects.toThrow(/no event #99/);
    await expect(attempt([2], "actor")()).rejects.toThrow(/--field must be/);
    await expect(attempt([2], "details.nosuch")()).rejects.toThrow(/have no "nosuch"/);
    await expect(attempt([4], "details")()).resolves.toMatchObject({ event: { seq: 9 } });
    await expect(attempt([4], "details")()).rejects.toThrow(/already redacted/);
    await expect(attempt([9], "details")()).rejects.toThrow(/its details are its evidence/);
    expect((await allEvents(db)).slice(0, 3)).toEqual(before.slice(0, 3));

    // Someone edited a row by hand: re-chaining would launder that, so redaction refuses.
    const raw = new Database(file);
    raw.prepare(`UPDATE "AuditEvent" SET reason = 'edited' WHERE seq = 6`).run();
    raw.close();
    const tampered = await allEvents(db);
    await expect(attempt([2], "details.input")()).rejects.toThrow(RefusedError);
    expect(await allEvents(db)).toEqual(tampered);
    expect(await verifyStoredChain(db)).toMatchObject({ ok: false, problem: { seq: 6 } });
  });

  it("lets a writer that read the head just before a redaction append after it, with the chain intact", async () => {
    const db = await leakyLog();
    let redacted = false;
    // The server's writer reads the head, then the operator's redaction commits, then the writer inserts.
    const racing = db.$extends({
      query: {
        auditEvent: {
          async findFirst({ args, query }) {
            const head = await query(args);
            if (!redacted) {
              redacted = true;
              await redactEvents(file, { seqs: [2], field: "details.input", reason: "mid-write", actor: operator });
            }
            return head;
          },
        },
      },
    }) as unknown as typeof db;
    const written = await recordEvent(racing, operator, { action: "audit.exported", outcome: "succeeded" });
    expect(redacted).toBe(true);
    expect(written.seq).toBe(10);
    expect((await allEvents(db))[8]?.action).toBe("audit.redacted");
    expect(await verifyStoredChain(db)).toMatchObject({ ok: true, count: 10 });
  });

  it("compacts on request, for a file left with old pages by a reader that was busy", async () => {
    await leakyLog();
    expect(compactDatabase(file)).toBe(true);
    expect(existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`).length : 0).toBe(0);
  });
});
