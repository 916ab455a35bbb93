import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Actor, allEvents, closeAudit, openAudit, recordEvent } from "@/lib/audit";
import { signIn, userForToken } from "@/lib/auth";
import { createApiToken, tokenForBearer } from "@/lib/auth/api-tokens";
import { resetPassword } from "@/lib/auth/lifecycle";
import { createUser } from "@/lib/auth/test-support/accounts";
import { DEFAULT_MIN_SCORE } from "@/lib/registry";
import { BEST, fingerprint, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { release } from "@/lib/release";
import { changeSetting, readSettings } from "@/lib/settings/settings";
import { authenticate } from "./credentials";
import { type Identity, identityOfToken, identityOfUser, normalizePerson, samePerson, setPerson } from "./people";
import { decide, emergencyRollback, type RequestFacts } from "./rules";
import { countPending, expireDue, findRequest, openRequests, resolveInterrupted } from "./store";
import { approveRequest, rejectRequest, submitChange, withdrawRequest } from "./workflow";

const OTHER = "candidate_logreg_20250709T120000Z";
const ADMIN: Actor = { name: "root-admin", role: "admin", source: "web" };
let root: string;

beforeEach(() => {
  delete process.env.DATABASE_URL;
  delete process.env.REGISTRY_APPROVALS;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../../prisma/migrations");
  root = tempRegistry();
});
afterEach(async () => {
  await closeAudit();
  removeRegistry(root);
});

const live = () => sha(join(root, "models/production_latest.joblib"));
const modelSha = (stem: string) => sha(join(root, `models/${stem}.joblib`));

async function account(username: string, roles: string[], person?: string): Promise<Identity> {
  const db = openAudit(root);
  const user = await createUser(db, { username, password: `${username}-password`, roles, createdBy: "test" });
  if (person !== undefined) await setPerson(db, ADMIN, username, person);
  return identityOfUser(db, user);
}

async function requireApprovals() {
  await changeSetting(openAudit(root), ADMIN, "approvals", "required", {});
}

const promoteBest = { kind: "promote" as const, minScore: DEFAULT_MIN_SCORE, overrides: [], reason: "weekly release" };

async function requestBest(who: Identity) {
  const s = await submitChange(
    root,
    { ...promoteBest, version: BEST },
    { actor: { name: who.username, role: "releaser", source: "web" }, identity: who },
  );
  expect(s.status).toBe("requested");
  return s.request!;
}

async function actions() {
  return (await allEvents(openAudit(root))).map((e) => `${e.action}:${e.outcome}`);
}

describe("who is the same person", () => {
  it("folds width, case, invisible characters and spacing, and nothing else", () => {
    expect(normalizePerson("  Ａｌｉｃｅ\u00a0 SMITH ")).toBe("alice smith");
    expect(normalizePerson("ali\u200Bce smith")).toBe("alice smith");
    expect(normalizePerson("Straße")).toBe(normalizePerson("STRASSE"));
    expect(normalizePerson("alice.smith@example.com")).not.toBe(normalizePerson("alice smith"));
    expect(samePerson({ accountId: 1, person: "a" }, { accountId: 1, person: "b" })).toBe(true);
    expect(samePerson({ accountId: 1, person: "alice smith" }, { accountId: 2, person: "alice smith" })).toBe(true);
    expect(samePerson({ accountId: null, person: "x" }, { accountId: null, person: "y" })).toBe(false);
    expect(samePerson({ accountId: null, person: "" }, { accountId: null, person: "" })).toBe(false);
  });

  it("the pure rule: never the requester (by account or person), only releasers, only pending and unexpired", () => {
    const now = new Date("2026-12-04T10:00:00Z");
    const request: RequestFacts = {
      id: 7,
      state: "pending",
      expiresAt: "2026-12-05T10:00:00.000Z",
      requester: { accountId: 1, username: "alice", person: "alice smith" },
      requesterPersonNow: "alice smith",
    };
    const who = (accountId: number | null, person: string, roles: Identity["roles"] = ["releaser"]): Identity => ({
      accountId,
      username: `u${accountId}`,
      person,
      roles,
      source: "web",
    });
    expect(decide(request, who(2, "bob"), now, "approve")).toEqual({ ok: true });
    expect(decide(request, who(1, "someone else"), now, "approve")).toMatchObject({ ok: false, code: "self_approval" });
    expect(decide(request, who(3, "alice smith"), now, "approve")).toMatchObject({ ok: false, code: "self_approval" });
    expect(decide(request, who(null, "alice smith"), now, "approve")).toMatchObject({ ok: false, code: "self_approval" });
    // The requester's person was changed after the request: both the old and the new one are the requester.
    expect(decide({ ...request, requesterPersonNow: "a. smith" }, who(4, "a. smith"), now, "approve")).toMatchObject({
      code: "self_approval",
    });
    expect(decide(request, who(5, "carol", ["admin"]), now, "approve")).toMatchObject({ ok: false, code: "forbidden" });
    expect(decide(request, who(5, "carol", ["admin", "auditor", "viewer"]), now, "reject")).toMatchObject({ code: "forbidden" });
    expect(decide({ ...request, state: "approved" }, who(2, "bob"), now, "approve")).toMatchObject({ code: "request_closed" });
    expect(decide(request, who(2, "bob"), new Date("2026-12-05T10:00:00Z"), "approve")).toMatchObject({ code: "request_expired" });
  });

  it("the emergency rule: only a rollback to the version just before, without overrides, inside the window", () => {
    const now = new Date("2026-12-04T10:30:00Z");
    const base = {
      kind: "rollback" as const,
      targetStem: "a",
      previousStem: "a",
      liveSince: "2026-12-04T10:00:00Z",
      liveBy: "promote" as const,
      overrides: 0,
      windowMinutes: 60,
    };
    expect(emergencyRollback(base, now)).toMatchObject({ ok: true });
    expect(emergencyRollback({ ...base, windowMinutes: 0 }, now)).toMatchObject({ ok: false });
    expect(emergencyRollback({ ...base, windowMinutes: 29 }, now)).toMatchObject({ ok: false });
    expect(emergencyRollback({ ...base, kind: "promote" }, now)).toMatchObject({ ok: false });
    expect(emergencyRollback({ ...base, previousStem: "b" }, now)).toMatchObject({ ok: false });
    expect(emergencyRollback({ ...base, overrides: 1 }, now)).toMatchObject({ ok: false });
    expect(emergencyRollback({ ...base, liveSince: null }, now)).toMatchObject({ ok: false });
    expect(emergencyRollback({ ...base, liveBy: "rollback" }, now)).toMatchObject({ ok: false });
  });
});

describe("the database side", () => {
  it("matches schema.prisma: settings, requests and the person round-trip through the client", async () => {
    const db = openAudit(root);
    const setting = { key: "k", value: "v", updatedAt: "2026-01-01T00:00:00.000Z", updatedBy: "a" };
    await db.setting.create({ data: setting });
    expect(await db.setting.findUniqueOrThrow({ where: { key: "k" } })).toEqual(setting);
    const data = {
      uid: "u",
      kind: "promote",
      state: "pending",
      targetStem: "t",
      targetSha256: "ts",
      targetScore: 0.7,
      metric: "pr_auc",
      fromStem: "f",
      productionSha256: "fs",
      fromScore: 0.5,
      minScore: 0.6,
      overrides: "[]",
      checks: "[]",
      files: "[]",
      reason: "why",
      requesterId: 1,
      requesterName: "alice",
      requesterPerson: "alice smith",
      source: "web",
      createdAt: "2026-01-01T00:00:00.000Z",
      expiresAt: "2026-01-02T00:00:00.000Z",
      deciderId: 2,
      deciderName: "bob",
      deciderPerson: "bob",
      decisionReason: "ok",
      decidedAt: "2026-01-01T01:00:00.000Z",
      releaseCorrelationId: "c",
      outcome: "o",
    };
    const created = await db.approvalRequest.create({ data });
    expect(await db.approvalRequest.findUniqueOrThrow({ where: { id: created.id } })).toEqual({ ...data, id: created.id });
    await account("pat", ["viewer"], "Pat Doe");
    expect((await db.user.findUniqueOrThrow({ where: { username: "pat" } })).person).toBe("Pat Doe");
  });
});

describe("settings", () => {
  it("default off; the dashboard's value next, audited with old and new; the environment may only tighten it", async () => {
    const db = openAudit(root);
    expect((await readSettings(db, {})).approvals).toMatchObject({ value: "off", source: "default" });
    // With nothing stored, the environment stands in for the default, either way.
    expect((await readSettings(db, { REGISTRY_APPROVALS: "required" })).approvals).toMatchObject({ value: "required", source: "env" });
    expect((await readSettings(db, { REGISTRY_APPROVALS: "off" })).approvals).toMatchObject({ value: "off", source: "env" });
    await changeSetting(db, ADMIN, "approvals", "required", {});
    expect((await readSettings(db, {})).approvals).toMatchObject({ value: "required", source: "database", updatedBy: "root-admin" });
    const [changed] = (await allEvents(db)).filter((e) => e.action === "settings.changed");
    expect(JSON.parse(changed!.details)).toMatchObject({ key: "approvals", old: "off", new: "required" });

    // A caller's own environment cannot loosen what the admin required; it is told so.
    const loose = { REGISTRY_APPROVALS: "off", REGISTRY_APPROVAL_TTL_HOURS: "720", REGISTRY_EMERGENCY_ROLLBACK_MINUTES: "1440" };
    await changeSetting(db, ADMIN, "approvalTtlHours", "2", {});
    await changeSetting(db, ADMIN, "emergencyRollbackMinutes", "0", {});
    const s = await readSettings(db, loose);
    expect(s.approvals).toMatchObject({ value: "required", source: "database", ignored: expect.stringMatching(/REGISTRY_APPROVALS=off is ignored/) });
    expect(s.approvalTtlHours).toMatchObject({ value: 2, source: "database", ignored: expect.any(String) });
    expect(s.emergencyRollbackMinutes).toMatchObject({ value: 0, source: "database", ignored: expect.any(String) });
    // A stricter environment applies and pins: the dashboard cannot loosen it, but may tighten.
    const strict = { REGISTRY_APPROVALS: "required", REGISTRY_APPROVAL_TTL_HOURS: "1" };
    expect((await readSettings(db, strict)).approvalTtlHours).toMatchObject({ value: 1, source: "env", ignored: null });
    await changeSetting(db, ADMIN, "approvals", "off", {});
    expect((await readSettings(db, strict)).approvals).toMatchObject({ value: "required", source: "env" });
    await expect(changeSetting(db, ADMIN, "approvals", "off", strict)).rejects.toMatchObject({ code: "setting_pinned" });
    expect((await allEvents(db)).at(-1)).toMatchObject({ action: "settings.change_refused", outcome: "refused" });
    expect((await changeSetting(db, ADMIN, "approvals", "required", strict)).changed).toBe(true);
    await expect(changeSetting(db, ADMIN, "approvalTtlHours", "0", {})).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("fails closed on a value it cannot read: approvals required, no emergency window", async () => {
    const s = await readSettings(openAudit(root), { REGISTRY_APPROVALS: "yes", REGISTRY_EMERGENCY_ROLLBACK_MINUTES: "soon" });
    expect(s.approvals).toMatchObject({ value: "required", source: "env", problem: expect.stringMatching(/REGISTRY_APPROVALS="yes"/) });
    expect(s.emergencyRollbackMinutes).toMatchObject({ value: 0, problem: expect.any(String) });
  });
});

describe("the two-person rule", () => {
  it("with approvals off a releaser promotes alone, as before", async () => {
    const alice = await account("alice", ["releaser"]);
    const s = await submitChange(
      root,
      { ...promoteBest, version: BEST },
      { actor: { name: "alice", role: "releaser", source: "web" }, identity: alice },
    );
    expect(s.status).toBe("done");
    expect(live()).toBe(modelSha(BEST));
  });

  it("a request writes nothing; a second releaser's approval re-plans and puts it live, all audited", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"], "Alice Smith");
    const bob = await account("bob", ["releaser"], "Bob Jones");
    const before = fingerprint(root);
    const request = await requestBest(alice);
    expect(fingerprint(root)).toEqual(before);
    expect(request).toMatchObject({
      state: "pending",
      kind: "promote",
      targetStem: BEST,
      targetSha256: modelSha(BEST),
      productionSha256: modelSha(PRODUCTION),
      reason: "weekly release",
      requester: { username: "alice", person: "alice smith" },
    });
    expect(request.checks.map((c) => c.name)).toContain("min_score");
    expect(await countPending(openAudit(root), new Date(), "web")).toBe(1);

    const { outcome, request: done } = await approveRequest(root, request.id, bob, "checked the metrics");
    expect(outcome?.status).toBe("done");
    expect(live()).toBe(modelSha(BEST));
    expect(done).toMatchObject({ state: "approved", decider: { username: "bob" }, decisionReason: "checked the metrics" });
    expect(done.releaseCorrelationId).toBe(outcome?.correlationId);
    expect(await actions()).toEqual([
      "settings.changed:succeeded",
      "user.created:succeeded",
      "user.person_changed:succeeded",
      "user.created:succeeded",
      "user.person_changed:succeeded",
      "approval.requested:succeeded",
      "approval.approved:succeeded",
      "model.promotion_started:intent",
      "model.promoted:succeeded",
    ]);
    const promoted = (await allEvents(openAudit(root))).at(-1)!;
    expect(promoted).toMatchObject({ actor: "bob", reason: "weekly release", toStem: BEST });
    expect(JSON.parse(promoted.details).approval).toMatchObject({ requestId: request.id, requestedBy: "alice", approvedBy: "bob" });
  });

  it("refuses self-approval: the same account, another account of the same person, the web session, and an admin", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"], "Alice Smith");
    const alias = await account("asmith", ["releaser"], "  ALICE\u3000smith ");
    await account("root", ["admin", "auditor", "viewer"]);
    const request = await requestBest(alice);
    const before = fingerprint(root);

    await expect(approveRequest(root, request.id, alice, "looks fine to me")).rejects.toMatchObject({ code: "self_approval", exitCode: 3 });
    await expect(approveRequest(root, request.id, alias, "looks fine to me")).rejects.toMatchObject({ code: "self_approval" });
    // The web's path: the identity comes from the session, whatever the form says.
    const db = openAudit(root);
    const session = await signIn(db, { username: "alice", password: "alice-password", address: "test" });
    if (!session.ok) throw new Error(session.error);
    const fromSession = await identityOfUser(db, (await userForToken(db, session.token))!);
    await expect(approveRequest(root, request.id, fromSession, "looks fine to me")).rejects.toMatchObject({ code: "self_approval" });
    const rootRow = await db.user.findUniqueOrThrow({ where: { username: "root" } });
    const admin = await identityOfUser(db, { id: rootRow.id, username: "root", roles: ["admin", "auditor", "viewer"] });
    await expect(approveRequest(root, request.id, admin, "admin says yes")).rejects.toMatchObject({
      code: "forbidden",
      exitCode: 4,
    });
    await expect(rejectRequest(root, request.id, alice, "never mind")).rejects.toMatchObject({ code: "self_approval" });

    expect(fingerprint(root)).toEqual(before);
    expect(await findRequest(db, request.id)).toMatchObject({ state: "pending", decider: null });
    const refused = (await allEvents(db)).filter((e) => e.action === "approval.refused");
    // Each refusal once per person and reason: a retried attempt does not grow the log.
    expect(refused.map((e) => e.actor)).toEqual(["alice", "asmith", "root", "alice"]);
    expect(JSON.parse(refused[0]!.details)).toMatchObject({ code: "self_approval", requestId: request.id });
  });

  it("a pipeline's token asks on behalf of the person who made the token: that person cannot approve it, another releaser can", async () => {
    await requireApprovals();
    const alice = await account("alice", ["admin", "releaser"], "Alice Smith");
    const bob = await account("bob", ["releaser"]);
    const db = openAudit(root);
    const made = await createApiToken(db, {
      name: "ci-deploy",
      role: "releaser",
      expiresInMs: 86_400_000,
      by: { name: "alice", role: "admin", source: "web" },
    });
    const check = await tokenForBearer(db, `Bearer ${made.token}`);
    if (!check.ok) throw new Error(check.why);
    const pipeline = await identityOfToken(db, check.token);
    expect(pipeline).toMatchObject({ accountId: alice.accountId, username: "ci-deploy", source: "api", person: alice.person });
    const request = await requestBest(pipeline);
    await expect(approveRequest(root, request.id, alice, "my pipeline, my say")).rejects.toMatchObject({ code: "self_approval" });
    // Renaming her own person after asking changes nothing: the request follows her account.
    await setPerson(db, { name: "alice", role: "admin", source: "web" }, "alice", "Somebody Else");
    const renamed = await identityOfUser(db, { id: alice.accountId ?? 0, username: "alice", roles: ["admin", "releaser"] });
    await expect(approveRequest(root, request.id, renamed, "a new me")).rejects.toMatchObject({ code: "self_approval" });
    await approveRequest(root, request.id, bob, "checked the run");
    expect(live()).toBe(modelSha(BEST));
  });

  it("under the two-person rule, a token whose maker has no account cannot ask: nobody could tell who asked", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"]);
    const db = openAudit(root);
    // Made from a shell with no account named: its maker is only an OS user, who may also hold an account.
    const made = await createApiToken(db, { name: "ci-shell", role: "releaser", expiresInMs: 86_400_000, by: { name: "ops", role: "cli", source: "cli" } });
    const check = await tokenForBearer(db, `Bearer ${made.token}`);
    if (!check.ok) throw new Error(check.why);
    const pipeline = await identityOfToken(db, check.token);
    expect(pipeline).toMatchObject({ accountId: null, madeBy: "ops" });
    const before = fingerprint(root);
    await expect(
      submitChange(root, { ...promoteBest, version: BEST }, { actor: { name: "ci-shell", role: "releaser", source: "api" }, identity: pipeline }),
    ).rejects.toMatchObject({ code: "account_required", message: expect.stringMatching(/--user NAME --password-stdin/) });
    expect(fingerprint(root)).toEqual(before);
    expect(await openRequests(db, new Date(), "web")).toHaveLength(0);

    // A token an account made asks on that account's behalf, and the request says so.
    const byAlice = await createApiToken(db, { name: "ci-alice", role: "releaser", expiresInMs: 86_400_000, by: { name: "alice", role: "releaser", source: "cli" } });
    const aliceCheck = await tokenForBearer(db, `Bearer ${byAlice.token}`);
    if (!aliceCheck.ok) throw new Error(aliceCheck.why);
    const request = await requestBest(await identityOfToken(db, aliceCheck.token));
    const asked = (await allEvents(db)).find((e) => e.action === "approval.requested" && e.outcome === "succeeded")!;
    expect(JSON.parse(asked.details)).toMatchObject({ tokenMadeBy: "alice", requesterPerson: alice.person });
    await expect(approveRequest(root, request.id, alice, "mine")).rejects.toMatchObject({ code: "self_approval" });
  });

  it("each change event names the two-person rule in force and where it comes from", async () => {
    const alice = await account("alice", ["releaser"]);
    await submitChange(
      root,
      { ...promoteBest, version: BEST },
      { actor: { name: "ci-bot", role: "cli", source: "cli" }, identity: null, osUser: "deploy" },
      { env: { REGISTRY_APPROVALS: "off" } },
    );
    const db = openAudit(root);
    const promoted = (await allEvents(db)).find((e) => e.action === "model.promoted")!;
    expect(JSON.parse(promoted.details)).toMatchObject({ approvals: { mode: "off", source: "env" }, osUser: "deploy" });
    await requireApprovals();
    await submitChange(
      root,
      { ...promoteBest, kind: "rollback", version: PRODUCTION, reason: "back to the old one" },
      { actor: { name: "alice", role: "releaser", source: "web" }, identity: alice },
      { env: { REGISTRY_APPROVALS: "off" } },
    );
    const asked = (await allEvents(db)).filter((e) => e.action.startsWith("approval.requested") || e.action === "model.rolled_back").at(-1)!;
    expect(JSON.parse(asked.details)).toMatchObject({ approvals: { mode: "required", source: "database" } });
  });

  it("an admin who renames the requester's person does not let their other account approve", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"], "Alice Smith");
    const request = await requestBest(alice);
    const other = await account("ally", ["releaser"], "Ally");
    await setPerson(openAudit(root), ADMIN, "alice", "Ally");
    await expect(approveRequest(root, request.id, other, "fine")).rejects.toMatchObject({ code: "self_approval" });
  });

  it("expires a request after its time: it cannot be approved, and the expiry is recorded exactly once", async () => {
    await requireApprovals();
    await changeSetting(openAudit(root), ADMIN, "approvalTtlHours", "2", {});
    const alice = await account("alice", ["releaser"]);
    const bob = await account("bob", ["releaser"]);
    const request = await requestBest(alice);
    expect(Date.parse(request.expiresAt) - Date.parse(request.createdAt)).toBe(2 * 3_600_000);
    const later = new Date(Date.parse(request.expiresAt) + 1000);
    const db = openAudit(root);
    // Two observers at once (a page and a CLI): one state change, one event.
    await Promise.all([expireDue(db, later, "web"), expireDue(db, later, "cli"), openRequests(db, later, "web")]);
    await expect(approveRequest(root, request.id, bob, "too late?", { now: later })).rejects.toMatchObject({ code: "request_closed" });
    expect(live()).toBe(modelSha(PRODUCTION));
    expect(await findRequest(db, request.id)).toMatchObject({ state: "expired" });
    expect((await allEvents(db)).filter((e) => e.action === "approval.expired")).toHaveLength(1);
  });

  it("re-plans at approval: production changed meanwhile, so the approval refuses and writes nothing", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"]);
    const bob = await account("bob", ["releaser"]);
    const request = await requestBest(alice);
    // Someone changes production outside the rule (a hand copy, an older CLI): the request no longer describes it.
    await release(root, { kind: "promote", version: OTHER, minScore: 0, overrides: [{ check: "no_degradation", reason: "test" }] }, ADMIN);
    const moved = fingerprint(root);
    await expect(approveRequest(root, request.id, bob, "ship it")).rejects.toMatchObject({ code: "request_stale" });
    expect(fingerprint(root)).toEqual(moved);
    expect(await findRequest(openAudit(root), request.id)).toMatchObject({ state: "stale" });
    expect((await allEvents(openAudit(root))).at(-1)).toMatchObject({ action: "approval.refused", outcome: "refused", actor: "bob" });
  });

  it("re-plans at approval: the target's metrics changed since the request, so the approval refuses", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"]);
    const bob = await account("bob", ["releaser"]);
    const request = await requestBest(alice);
    writeFileSync(join(root, `metrics/${BEST}.json`), JSON.stringify({ metrics: { pr_auc: 0.99 } }));
    const before = fingerprint(root);
    await expect(approveRequest(root, request.id, bob, "ship it")).rejects.toMatchObject({ code: "request_stale" });
    expect(fingerprint(root)).toEqual(before);
  });

  it("two approvals of one request at once: exactly one applies", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"]);
    const bob = await account("bob", ["releaser"]);
    const carol = await account("carol", ["releaser"]);
    const request = await requestBest(alice);
    const results = await Promise.allSettled([
      approveRequest(root, request.id, bob, "yes from bob"),
      approveRequest(root, request.id, carol, "yes from carol"),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason).toMatchObject({ code: "request_closed" });
    expect(live()).toBe(modelSha(BEST));
    const events = await actions();
    expect(events.filter((a) => a === "model.promoted:succeeded")).toHaveLength(1);
    expect(events.filter((a) => a === "approval.approved:succeeded")).toHaveLength(1);
  });

  it("rejects with a reason, and the requester can withdraw their own", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"]);
    const bob = await account("bob", ["releaser"]);
    const first = await requestBest(alice);
    const rejected = await rejectRequest(root, first.id, bob, "not before the freeze ends");
    expect(rejected.request).toMatchObject({
      state: "rejected",
      decisionReason: "not before the freeze ends",
      decider: { username: "bob" },
    });
    await expect(approveRequest(root, first.id, bob, "changed my mind")).rejects.toMatchObject({ code: "request_closed" });
    const second = await requestBest(alice);
    await expect(withdrawRequest(root, second.id, bob, null)).rejects.toMatchObject({ code: "forbidden" });
    expect((await withdrawRequest(root, second.id, alice, "wrong version")).request.state).toBe("withdrawn");
    expect(live()).toBe(modelSha(PRODUCTION));
    expect(await actions()).toEqual(
      expect.arrayContaining(["approval.rejected:succeeded", "approval.withdrawn:succeeded", "approval.refused:refused"]),
    );
  });

  it("refuses a change with no account when approvals are required, and files no request for a refused plan", async () => {
    await requireApprovals();
    const bare = { actor: { name: "ci-bot", role: "cli", source: "cli" as const }, identity: null };
    await expect(submitChange(root, { ...promoteBest, version: BEST }, bare)).rejects.toMatchObject({
      code: "account_required",
      exitCode: 2,
    });
    const alice = await account("alice", ["releaser"]);
    const low = "baseline_logreg_20250114T091500Z";
    const s = await submitChange(
      root,
      { ...promoteBest, version: low },
      { actor: { name: "alice", role: "releaser", source: "web" }, identity: alice },
    );
    expect(s.status).toBe("refused");
    expect(await countPending(openAudit(root), new Date(), "web")).toBe(0);
    expect((await allEvents(openAudit(root))).at(-1)).toMatchObject({ action: "approval.requested", outcome: "refused" });
  });

  it("an emergency rollback to the version live just before skips approval inside the window, flagged for review", async () => {
    const alice = await account("alice", ["releaser"]);
    const who = { actor: { name: "alice", role: "releaser", source: "web" as const }, identity: alice };
    expect((await submitChange(root, { ...promoteBest, version: BEST }, who)).status).toBe("done");
    await requireApprovals();
    const back = { kind: "rollback" as const, version: PRODUCTION, minScore: DEFAULT_MIN_SCORE, overrides: [], reason: "pager: latency" };
    // Outside the window (the default 60 minutes) it is an ordinary request.
    const late = await submitChange(root, back, who, { now: new Date(Date.now() + 61 * 60_000) });
    expect(late.status).toBe("requested");
    expect(live()).toBe(modelSha(BEST));
    // To any other version it is no emergency: one never live is not even a rollback (refused, never_live).
    const elsewhere = await submitChange(root, { ...back, version: OTHER }, who);
    expect(elsewhere).toMatchObject({ status: "refused", plan: { refusalCode: "never_live" } });
    const now = await submitChange(root, back, who);
    expect(now).toMatchObject({ status: "done", emergency: true });
    expect(live()).toBe(modelSha(PRODUCTION));
    const rolled = (await allEvents(openAudit(root))).at(-1)!;
    expect(rolled).toMatchObject({ action: "model.rolled_back", actor: "alice" });
    expect(JSON.parse(rolled.details)).toMatchObject({ emergency: true, review: "needed", emergencyWindowMinutes: 60 });
    // Undoing the emergency rollback (back to the version just taken off) is no emergency: it needs a second releaser.
    const undo = await submitChange(root, { ...back, version: BEST }, who);
    expect(undo.status).toBe("requested");
    expect(live()).toBe(modelSha(PRODUCTION));
    await withdrawRequest(root, undo.request!.id, alice, null);
    // A fresh promotion again (approved by a second releaser); with the window at 0 there is no emergency path.
    const again = await submitChange(root, { ...promoteBest, version: BEST }, who);
    await approveRequest(root, again.request!.id, await account("bob", ["releaser"]), "looks right");
    expect(live()).toBe(modelSha(BEST));
    await changeSetting(openAudit(root), ADMIN, "emergencyRollbackMinutes", "0", {});
    expect((await submitChange(root, back, who)).status).toBe("requested");
    expect(live()).toBe(modelSha(BEST));
  });

  it("checks the CLI's credentials like sign-in: wrong passwords count towards the lockout", async () => {
    await account("alice", ["releaser"]);
    const db = openAudit(root);
    await expect(authenticate(db, "alice", "nope", "cli:test")).rejects.toMatchObject({ code: "unauthenticated", exitCode: 4 });
    expect((await authenticate(db, "alice", "alice-password", "cli:test")).username).toBe("alice");
    expect(await db.session.count()).toBe(0);
    for (let i = 0; i < 5; i++) await authenticate(db, "alice", `guess ${i}`, "cli:test").catch(() => undefined);
    await expect(authenticate(db, "alice", "alice-password", "cli:test")).rejects.toThrow(/Too many/);
  });

  it("refuses a temporary password an admin reset: it only opens the page that changes it", async () => {
    await account("alice", ["releaser"]);
    const db = openAudit(root);
    await resetPassword(db, ADMIN, "alice", "temporary-pass-41");
    await expect(authenticate(db, "alice", "temporary-pass-41", "cli:test")).rejects.toMatchObject({
      code: "unauthenticated",
      exitCode: 4,
      message: expect.stringMatching(/change (your|the) password first/),
    });
    expect(await db.session.count()).toBe(0);
  });

  it("settles a request left 'approving' by a crash from what the audit log shows", async () => {
    await requireApprovals();
    const alice = await account("alice", ["releaser"]);
    const [landed, lost] = [await requestBest(alice), await requestBest(alice)];
    const db = openAudit(root);
    const claimedAt = new Date(Date.now() - 11 * 60_000).toISOString();
    await db.approvalRequest.updateMany({
      where: { id: { in: [landed.id, lost.id] } },
      data: { state: "approving", decidedAt: claimedAt },
    });
    // The crashed release of `landed` recorded its intent (with the request) and its completion; `lost` recorded nothing.
    const bob: Actor = { name: "bob", role: "releaser", source: "web" };
    await recordEvent(db, bob, {
      action: "model.promotion_started",
      outcome: "intent",
      correlationId: "c-1",
      details: { approval: { uid: landed.uid } },
    });
    await recordEvent(db, bob, { action: "model.promoted", outcome: "succeeded", correlationId: "c-1" });
    // Not yet: a release may take a while; only a claim older than ten minutes counts as interrupted.
    await resolveInterrupted(db, new Date(Date.parse(claimedAt) + 5 * 60_000));
    expect((await findRequest(db, landed.id))?.state).toBe("approving");
    await resolveInterrupted(db, new Date());
    expect(await findRequest(db, landed.id)).toMatchObject({ state: "approved", releaseCorrelationId: "c-1" });
    expect(await findRequest(db, lost.id)).toMatchObject({ state: "failed", outcome: expect.stringMatching(/Interrupted/) });
  });
});
