import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { allEvents, closeAudit, databaseFile, openAudit } from "@/lib/audit";
import { removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { type Receiver, startReceiver } from "@/lib/webhooks/test-support/receiver";
import { main } from "./main";

// `registry webhooks …`: the secret only from stdin and never printed back, JSON shapes and exit codes as a
// contract, and `send` safe to run from several processes at once.

const SECRET = "cli-secret-0123456789abcdef";
const bin = resolve(__dirname, "bin.mjs");
let root: string;
let receiver: Receiver;

beforeEach(async () => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = resolve(__dirname, "../prisma/migrations");
  process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE = "127.0.0.1";
  root = tempRegistry();
  receiver = await startReceiver(SECRET);
});
afterEach(async () => {
  delete process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE;
  await receiver.close();
  await closeAudit();
  removeRegistry(root);
});

/** Runs the CLI in-process with `stdin` as standard input, capturing what it prints. */
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
  return { code, text: lines.join("\n"), json: json as Record<string, unknown> & { error?: { code: string; message: string } } };
}

const addHook = (url = receiver.url, events = "model.promoted,model.rolled_back,promotion.refused") =>
  run(["webhooks", "add", url, "--secret-stdin", "--events", events, "--json"], `${SECRET}\n`);

describe("registry webhooks", () => {
  it("adds, lists, tests, shows deliveries, redelivers and removes, never printing the secret", async () => {
    const added = await addHook();
    expect(added.code).toBe(0);
    expect(added.json).toEqual({
      id: 1,
      url: receiver.url,
      events: ["model.promoted", "model.rolled_back", "promotion.refused"],
      enabled: true,
      createdAt: expect.any(String),
      createdBy: expect.any(String),
      counts: { pending: 0, delivered: 0, failed: 0 },
    });
    const test = await run(["webhooks", "test", "1", "--json"]);
    expect(test.code).toBe(0);
    expect(test.json).toMatchObject({ type: "ping", state: "delivered", attempts: 1, lastStatus: 204 });
    expect(receiver.received[0]?.signatureValid).toBe(true);

    const promoted = await run(["promote", "--json", "--reason", "weekly"]);
    expect(promoted.json.promoted).toBe(true);
    expect((await run(["webhooks", "send", "--json"])).json).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(receiver.received.map((r) => r.headers["x-registry-event"])).toEqual(["ping", "model.promoted"]);

    const deliveries = await run(["webhooks", "deliveries", "1", "--json"]);
    const list = deliveries.json.deliveries as { id: string; type: string; state: string; attemptLog: unknown[] }[];
    expect(list.map((d) => [d.type, d.state, d.attemptLog.length])).toEqual([
      ["model.promoted", "delivered", 1],
      ["ping", "delivered", 1],
    ]);
    const again = await run(["webhooks", "redeliver", list[0]!.id, "--json"]);
    expect(again.json).toMatchObject({ state: "pending", redeliveryOf: list[0]!.id });
    expect((await run(["webhooks", "send", "--json"])).json).toMatchObject({ delivered: 1 });
    expect(receiver.received[2]?.body).toBe(receiver.received[1]?.body);

    const listed = await run(["webhooks", "list", "--json"]);
    expect(listed.json.webhooks).toEqual([expect.objectContaining({ id: 1, counts: { pending: 0, delivered: 3, failed: 0 } })]);
    const printed = [added, test, deliveries, listed].map((r) => JSON.stringify(r.json) + r.text).join("");
    expect(printed).not.toContain(SECRET);
    expect((await run(["webhooks", "list"])).text).not.toContain(SECRET);

    expect((await run(["webhooks", "remove", "1", "--json"])).json).toEqual({ id: 1, removed: true, changed: true });
    expect((await run(["webhooks", "list", "--json"])).json).toEqual({ webhooks: [] });
    const audit = JSON.stringify(await allEvents(openAudit(root)));
    expect(audit).not.toContain(SECRET);
    for (const action of ["webhook.created", "webhook.tested", "webhook.redelivered", "webhook.removed"]) expect(audit).toContain(action);
  });

  it("is bad usage (exit 2, nothing written) without --secret-stdin, events, a valid URL or a known id", async () => {
    const cases = [
      ["webhooks", "add", receiver.url, "--events", "model.promoted"],
      ["webhooks", "add", receiver.url, "--secret-stdin"],
      ["webhooks", "add", receiver.url, "--secret", SECRET, "--events", "model.promoted"],
      ["webhooks", "add", "ftp://example.com/", "--secret-stdin", "--events", "model.promoted"],
      ["webhooks", "add", receiver.url, "--secret-stdin", "--events", "model.exploded"],
      ["webhooks", "test", "x"],
      ["webhooks", "frobnicate"],
      // Last: an unknown id is only known to be unknown by opening the database.
      ["webhooks", "remove", "7"],
    ];
    for (const args of cases) {
      const r = await run([...args, "--json"], `${SECRET}\n`);
      expect(r.code, args.join(" ")).toBe(2);
      expect(JSON.stringify(r.json)).not.toContain(SECRET);
      // Bad usage reads and writes nothing: no database appears.
      if (args[1] !== "remove") expect(existsSync(databaseFile(root)), args.join(" ")).toBe(false);
    }
    expect(await openAudit(root).webhook.count()).toBe(0);
  });

  it("refuses a private address unless REGISTRY_WEBHOOKS_ALLOW_PRIVATE allows it (exit 3), and audits the refusal", async () => {
    delete process.env.REGISTRY_WEBHOOKS_ALLOW_PRIVATE;
    const r = await addHook();
    expect(r.code).toBe(3);
    expect(r.json.error?.code).toBe("private_address");
    expect(await openAudit(root).webhook.count()).toBe(0);
    const refused = (await allEvents(openAudit(root))).filter((e) => e.action === "webhook.change_refused");
    expect(refused).toHaveLength(1);
    expect(refused[0]?.details).toContain("127.0.0.1");
  });

  it("two `webhooks send` processes at once send each delivery exactly once", async () => {
    expect((await addHook()).code).toBe(0);
    // 24 pending deliveries, and a receiver slow enough that both senders are busy at the same time.
    for (let i = 0; i < 12; i++) {
      await run(["promote", "--json", "--reason", `r${i}`]);
      await run(["rollback", "--previous", "--json", "--reason", `back ${i}`]);
    }
    await closeAudit();
    const pending = await openAudit(root).webhookDelivery.count({ where: { state: "pending" } });
    expect(pending).toBe(24);
    receiver.delayMs = 100;
    const env = { ...process.env, REGISTRY_ROOT: root };
    const exec = promisify(execFile);
    const both = await Promise.all([1, 2].map(() => exec("node", [bin, "webhooks", "send", "--json"], { env })));
    const reports = both.map((r) => JSON.parse(r.stdout) as { delivered: number });
    expect(reports[0]!.delivered + reports[1]!.delivered).toBe(24);
    const ids = receiver.received.map((r) => r.headers["x-registry-delivery"]);
    expect(ids).toHaveLength(24);
    expect(new Set(ids).size).toBe(24);
  });
});
