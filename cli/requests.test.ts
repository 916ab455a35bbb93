import { execFile } from "node:child_process";
import { userInfo } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setPerson } from "@/lib/approvals";
import { allEvents, closeAudit, openAudit } from "@/lib/audit";
import { resetPassword } from "@/lib/auth/lifecycle";
import { createUser } from "@/lib/auth/test-support/accounts";
import { changeSetting } from "@/lib/settings/settings";
import { BEST, fingerprint, PRODUCTION, removeRegistry, sha, tempRegistry } from "@/lib/registry/test-support/fixture";
import { main } from "./main";

let root: string;
beforeEach(async () => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../prisma/migrations");
  process.env.REGISTRY_APPROVALS = "required";
  root = tempRegistry();
  const db = openAudit(root);
  for (const [name, roles] of [
    ["alice", ["releaser"]],
    ["asmith", ["releaser"]],
    ["bob", ["releaser"]],
    ["carol", ["releaser"]],
    ["root", ["admin", "auditor", "viewer"]],
  ] as const) {
    await createUser(db, { username: name, password: `${name}-password`, roles: [...roles], createdBy: "test" });
  }
  const admin = { name: "root", role: "admin", source: "cli" as const };
  await setPerson(db, admin, "alice", "Alice Smith");
  await setPerson(db, admin, "asmith", "alice  SMITH");
  await closeAudit();
});
afterEach(async () => {
  delete process.env.REGISTRY_APPROVALS;
  await closeAudit();
  removeRegistry(root);
});

/** Runs the CLI in-process, with `stdin` as standard input, and captures what it prints. */
async function run(args: string[], stdin = "") {
  const lines: string[] = [];
  let json: unknown = null;
  const code = await main([...args, "--root", root], {
    json: false,
    print: (t) => lines.push(t),
    printJson: (v) => {
      json = v;
    },
    stdin: async () => stdin,
  });
  return { code, text: lines.join("\n"), json: json as Record<string, unknown> };
}

const live = () => sha(join(root, "models/production_latest.joblib"));
const as = (user: string) => ["--user", user, "--password-stdin"];

async function requestBest(): Promise<number> {
  const r = await run(["promote", "--json", "--reason", "weekly release", ...as("alice")], "alice-password\n");
  expect(r.code).toBe(0);
  expect(r.json).toMatchObject({ requested: true, promoted: false, from: PRODUCTION, to: BEST, dryRun: false });
  return r.json.requestId as number;
}

describe("registry promote under the two-person rule", () => {
  it("needs an account: --actor alone is refused (exit 2), and nothing is written", async () => {
    const before = fingerprint(root);
    const r = await run(["promote", "--json", "--reason", "x", "--actor", "ci-bot"]);
    expect(r).toMatchObject({ code: 2, json: { error: { code: "account_required" } } });
    expect((await run(["promote", "--user", "alice"])).code).toBe(2);
    expect(fingerprint(root)).toEqual(before);
  });

  it("files a request (exit 0, requested) and writes nothing; list shows it", async () => {
    const before = fingerprint(root);
    const id = await requestBest();
    expect(fingerprint(root)).toEqual(before);
    const list = await run(["requests", "list", "--json"]);
    expect(list.code).toBe(0);
    expect(list.json).toMatchObject({ approvals: { mode: "required", source: "env", ttlHours: 24 } });
    expect(list.json.requests).toEqual([
      expect.objectContaining({ id, state: "pending", targetStem: BEST, requester: expect.objectContaining({ username: "alice" }) }),
    ]);
    expect((await run(["requests", "list"])).text).toMatch(new RegExp(`#${id} \\[pending\\] promote ${BEST}`));
  });

  it("rolls a fresh release back at once in an emergency, flagged; still with an account", async () => {
    process.env.REGISTRY_APPROVALS = "off";
    expect((await run(["promote", "--reason", "weekly", "--actor", "ci-bot"])).code).toBe(0);
    process.env.REGISTRY_APPROVALS = "required";
    expect((await run(["rollback", "--previous", "--reason", "pager", "--json"])).json).toMatchObject({
      error: { code: "account_required" },
    });
    const r = await run(["rollback", "--previous", "--reason", "pager: latency", "--json", ...as("alice")], "alice-password");
    expect(r).toMatchObject({ code: 0, json: { rolledBack: true, emergency: true, requested: false, to: PRODUCTION } });
    expect(live()).toBe(sha(join(root, `models/${PRODUCTION}.joblib`)));
    const last = (await allEvents(openAudit(root))).at(-1)!;
    expect(last).toMatchObject({ action: "model.rolled_back", actor: "alice", source: "cli" });
    expect(JSON.parse(last.details)).toMatchObject({ emergency: true, review: "needed", osUser: expect.any(String) });
  });

  it("a wrong password is exit 4 and names no secret", async () => {
    const r = await run(["promote", "--json", "--reason", "x", ...as("alice")], "not-her-password");
    expect(r).toMatchObject({ code: 4, json: { error: { code: "unauthenticated" } } });
    expect(JSON.stringify(r.json)).not.toContain("not-her-password");
  });
});

describe("the two-person rule cannot be got round from a shell", () => {
  it("REGISTRY_APPROVALS=off in the caller's environment does not loosen a rule the admin set to required", async () => {
    delete process.env.REGISTRY_APPROVALS;
    await changeSetting(openAudit(root), { name: "root", role: "admin", source: "web" }, "approvals", "required", {});
    process.env.REGISTRY_APPROVALS = "off";
    const before = fingerprint(root);
    const r = await run(["promote", "--json", "--reason", "weekly", "--actor", "ci-bot"]);
    expect(r).toMatchObject({ code: 2, json: { error: { code: "account_required" } } });
    expect(fingerprint(root)).toEqual(before);
    const list = await run(["requests", "list"]);
    expect(list.text).toMatch(/Two-person rule: required \(database\)/);
    expect(list.text).toMatch(/REGISTRY_APPROVALS=off is ignored/);
  });

  it("a temporary password from a reset is refused (exit 4): it only opens the page that changes it", async () => {
    await resetPassword(openAudit(root), { name: "root", role: "admin", source: "cli" }, "alice", "temporary-pass-41");
    const r = await run(["promote", "--json", "--reason", "weekly release", ...as("alice")], "temporary-pass-41");
    expect(r).toMatchObject({ code: 4, json: { error: { code: "unauthenticated", message: expect.stringMatching(/change your password first/) } } });
    expect(JSON.stringify(r.json)).not.toContain("temporary-pass-41");
    const approve = await run(["requests", "list", "--json"]);
    expect(approve.json.requests).toEqual([]);
  });

  it("--actor names the change; the OS user who ran it is recorded too, with the rule and its source", async () => {
    process.env.REGISTRY_APPROVALS = "off";
    expect((await run(["promote", "--reason", "weekly", "--actor", "ci-bot"])).code).toBe(0);
    const promoted = (await allEvents(openAudit(root))).find((e) => e.action === "model.promoted")!;
    expect(promoted.actor).toBe("ci-bot");
    expect(JSON.parse(promoted.details)).toMatchObject({ osUser: userInfo().username, approvals: { mode: "off", source: "env" } });
  });

  it("a token made from a shell asks on behalf of the account named with --user; without one it cannot ask", async () => {
    const bare = await run(["tokens", "create", "--name", "ci-shell", "--role", "releaser", "--json"]);
    expect(bare).toMatchObject({ code: 0, json: { name: "ci-shell", warning: expect.stringMatching(/cannot ask/) } });
    const made = await run(["tokens", "create", "--name", "ci-alice", "--role", "releaser", "--json", ...as("alice")], "alice-password");
    expect(made.code).toBe(0);
    expect(made.json.warning).toBeUndefined();
    const db = openAudit(root);
    expect(await db.apiToken.findFirst({ where: { name: "ci-alice" } })).toMatchObject({ createdBy: "alice" });
    expect((await allEvents(db)).filter((e) => e.action === "token.created").map((e) => e.actor)).toEqual([userInfo().username, "alice"]);
    // An account may make only a token of a role it holds (or any, as an admin); a wrong password makes none.
    const viewer = await run(["tokens", "create", "--name", "x", "--role", "admin", "--json", ...as("bob")], "bob-password");
    expect(viewer).toMatchObject({ code: 4, json: { error: { code: "forbidden" } } });
    const guess = await run(["tokens", "create", "--name", "y", "--role", "releaser", "--json", ...as("bob")], "guess");
    expect(guess).toMatchObject({ code: 4, json: { error: { code: "unauthenticated" } } });
    expect(await db.apiToken.count()).toBe(2);
  });

  it("an approval setting the CLI cannot read is said, not silently replaced", async () => {
    process.env.REGISTRY_APPROVAL_TTL_HOURS = "a day";
    try {
      const list = await run(["requests", "list"]);
      expect(list.text).toMatch(/REGISTRY_APPROVAL_TTL_HOURS="a day" is not a whole number of hours/);
    } finally {
      delete process.env.REGISTRY_APPROVAL_TTL_HOURS;
    }
  });
});

describe("registry requests approve|reject", () => {
  it("refuses self-approval, the same person's second account, an admin, a wrong password and a bare --actor", async () => {
    const id = String(await requestBest());
    const before = fingerprint(root);
    const self = await run(["requests", "approve", id, "--reason", "fine", "--json", ...as("alice")], "alice-password");
    expect(self).toMatchObject({ code: 3, json: { error: { code: "self_approval" } } });
    const alias = await run(["requests", "approve", id, "--reason", "fine", "--json", ...as("asmith")], "asmith-password");
    expect(alias).toMatchObject({ code: 3, json: { error: { code: "self_approval" } } });
    const admin = await run(["requests", "approve", id, "--reason", "fine", "--json", ...as("root")], "root-password");
    expect(admin).toMatchObject({ code: 4, json: { error: { code: "forbidden" } } });
    const guess = await run(["requests", "approve", id, "--reason", "fine", "--json", ...as("bob")], "guess");
    expect(guess).toMatchObject({ code: 4, json: { error: { code: "unauthenticated" } } });
    expect((await run(["requests", "approve", id, "--reason", "fine", "--actor", "bob"])).code).toBe(2);
    expect((await run(["requests", "approve", id, "--reason", "fine"])).code).toBe(2);
    expect((await run(["requests", "approve", "1; rm", "--reason", "fine", ...as("bob")], "bob-password")).code).toBe(2);
    expect((await run(["requests", "approve", "999", "--reason", "fine", ...as("bob")], "bob-password")).code).toBe(2);
    expect(fingerprint(root)).toEqual(before);
    const list = await run(["requests", "list", "--json"]);
    expect(list.json.requests).toEqual([expect.objectContaining({ state: "pending" })]);
  });

  it("a second releaser approves: production changes, and the log tells who asked and who approved", async () => {
    const id = await requestBest();
    const r = await run(["requests", "approve", String(id), "--reason", "metrics checked", "--json", ...as("bob")], "bob-password\n");
    expect(r).toMatchObject({ code: 0, json: { requestId: id, state: "approved", approved: true, promoted: true, to: BEST } });
    expect(live()).toBe(sha(join(root, `models/${BEST}.joblib`)));
    const events = await allEvents(openAudit(root));
    const approved = events.find((e) => e.action === "approval.approved")!;
    expect(approved).toMatchObject({ actor: "bob", source: "cli", reason: "metrics checked" });
    expect(JSON.parse(approved.details)).toMatchObject({ requestedBy: "alice", approvedBy: "bob", osUser: expect.any(String) });
    expect(events.at(-1)).toMatchObject({ action: "model.promoted", actor: "bob" });
  });

  it("a second releaser rejects with a reason; the request can then not be approved", async () => {
    const id = String(await requestBest());
    const r = await run(["requests", "reject", id, "--reason", "freeze until Monday", "--json", ...as("bob")], "bob-password");
    expect(r).toMatchObject({ code: 0, json: { state: "rejected", rejected: true } });
    const late = await run(["requests", "approve", id, "--reason", "now?", "--json", ...as("carol")], "carol-password");
    expect(late).toMatchObject({ code: 3, json: { error: { code: "request_closed" } } });
    expect(live()).toBe(sha(join(root, `models/${PRODUCTION}.joblib`)));
  });

  it("two approvals from two processes at once: exactly one applies", async () => {
    const id = String(await requestBest());
    await closeAudit();
    const bin = resolve(__dirname, "bin.mjs");
    const approve = (user: string) => {
      const child = promisify(execFile)(
        "node",
        [bin, "requests", "approve", id, "--reason", `yes from ${user}`, "--json", "--root", root, ...as(user)],
        {
          env: { ...process.env, DATABASE_URL: "" },
        },
      );
      child.child.stdin?.end(`${user}-password\n`);
      return child.then(
        () => 0,
        (e: { code: number }) => e.code,
      );
    };
    const codes = await Promise.all([approve("bob"), approve("carol")]);
    expect(codes.sort()).toEqual([0, 3]);
    expect(live()).toBe(sha(join(root, `models/${BEST}.joblib`)));
    const events = await allEvents(openAudit(root));
    expect(events.filter((e) => e.action === "model.promoted")).toHaveLength(1);
  });
});
