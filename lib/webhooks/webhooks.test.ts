import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Actor, allEvents, closeAudit, databaseFile, openAudit, recordEvent, verifyStoredChain } from "@/lib/audit";
import { release } from "@/lib/release";
import { STATE_DIR } from "@/lib/registry";
import { BEST, PRODUCTION, removeRegistry, tempRegistry } from "@/lib/registry/test-support/fixture";
import { PrivateAddressError, WebhookUrlError } from "./errors";
import { postSigned } from "./post";
import { nextWaitMs, scheduleFromEnv } from "./schedule";
import { KEY_FILE } from "./secret-box";
import { CLAIM_STALE_MS, sendAllDue, sendDue } from "./sender";
import { addWebhook, enqueuePing, listDeliveries, listWebhooks, redeliver, removeWebhook, setWebhookEnabled } from "./store";
import { addressPolicy, checkTargetUrl, isRefusedAddress } from "./target";
import { type Receiver, startReceiver } from "./test-support/receiver";

const MIGRATIONS = resolve(__dirname, "../../prisma/migrations");
const SECRET = "whsec-test-3f9a1c2d4e5b6a7c8d9e0f";
const admin: Actor = { name: "ada", role: "admin", source: "cli" };
const alice: Actor = { name: "alice", role: "releaser", source: "web" };
const promote = (version?: string) => ({ kind: "promote" as const, version, minScore: 0.6, overrides: [], reason: "weekly release" });
const ALLOW_LOOPBACK = addressPolicy({ REGISTRY_WEBHOOKS_ALLOW_PRIVATE: "127.0.0.1" });

let root: string;
let receiver: Receiver;

beforeEach(async () => {
  delete process.env.DATABASE_URL;
  process.env.REGISTRY_MIGRATIONS_DIR = MIGRATIONS;
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

const db = () => openAudit(root);
const add = (events = ["model.promoted", "model.rolled_back", "promotion.refused"], url = receiver.url) =>
  addWebhook(db(), root, admin, { url, secret: SECRET, events });
const send = (at?: Date) => sendDue(db(), root, { source: "cli", policy: ALLOW_LOOPBACK, ...(at ? { now: () => at } : {}) });

describe("a promotion announced to a receiver on 127.0.0.1", () => {
  it("arrives signed over '<timestamp>.<raw body>', with the audit event's facts, and verifies", async () => {
    const hook = await add();
    expect((await release(root, promote(), alice)).status).toBe("done");
    expect(await send()).toEqual({ delivered: 1, retrying: 0, failed: 0 });

    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.signatureValid).toBe(true);
    expect(got.headers["x-registry-event"]).toBe("model.promoted");
    expect(got.headers["content-type"]).toBe("application/json");
    expect(Number(got.headers["x-registry-timestamp"])).toBeGreaterThan(Date.now() / 1000 - 60);
    const body = JSON.parse(got.body);
    const promoted = (await allEvents(db())).find((e) => e.action === "model.promoted")!;
    expect(body).toEqual({
      id: expect.any(String),
      type: "model.promoted",
      occurredAt: promoted.at,
      actor: "alice",
      auditSeq: promoted.seq,
      data: {
        from: PRODUCTION,
        to: BEST,
        fromSha256: promoted.fromSha256,
        toSha256: promoted.toSha256,
        score: promoted.toScore,
        metric: promoted.metric,
        reason: "weekly release",
      },
    });
    const [delivery] = await listDeliveries(db(), hook.id);
    expect(delivery).toMatchObject({ id: got.headers["x-registry-delivery"], state: "delivered", attempts: 1, lastStatus: 204 });
    expect(delivery?.attemptLog).toEqual([expect.objectContaining({ status: 204, error: null })]);
  });

  it("a tampered body or a wrong secret does not verify", async () => {
    await add();
    await release(root, promote(), alice);
    await send();
    const got = receiver.received[0]!;
    const { verifySignature } = await import("./sign");
    const ts = String(got.headers["x-registry-timestamp"]);
    const header = String(got.headers["x-registry-signature-256"]);
    expect(verifySignature(SECRET, ts, got.body, header)).toBe(true);
    expect(verifySignature(SECRET, ts, got.body.replace("weekly", "weekly!"), header)).toBe(false);
    expect(verifySignature(`${SECRET}x`, ts, got.body, header)).toBe(false);
    expect(verifySignature(SECRET, String(Number(ts) + 1), got.body, header)).toBe(false);
  });

  it("writes the outbox row in the audit event's transaction: rolled back together, nothing announced", async () => {
    await add();
    await expect(
      db().$transaction(async (tx) => {
        await recordEvent(tx, alice, { action: "model.promoted", outcome: "succeeded", reason: "never committed" });
        throw new Error("the change failed after its event was appended");
      }),
    ).rejects.toThrow("the change failed");
    expect(await db().auditEvent.count({ where: { action: "model.promoted" } })).toBe(0);
    expect(await db().webhookDelivery.count()).toBe(0);
    await recordEvent(db(), alice, { action: "model.promoted", outcome: "succeeded", reason: "committed" });
    const [d] = await db().webhookDelivery.findMany();
    const e = (await allEvents(db())).find((x) => x.action === "model.promoted");
    expect(d?.auditSeq).toBe(e?.seq);
    expect((await verifyStoredChain(db())).ok).toBe(true);
  });

  it("announces only the events a webhook subscribed to, and refusals with why", async () => {
    const refusals = await add(["promotion.refused"]);
    const promotions = await add(["model.promoted"]);
    // Below the threshold: refused by min_score, recorded, announced to the first webhook only.
    expect((await release(root, promote("baseline_logreg_20250114T091500Z"), alice)).status).toBe("refused");
    await send();
    expect(receiver.received.map((r) => r.headers["x-registry-event"])).toEqual(["promotion.refused"]);
    const body = JSON.parse(receiver.received[0]!.body);
    expect(body.data.refusal).toEqual(expect.stringContaining("min_score"));
    expect(await listDeliveries(db(), promotions.id)).toEqual([]);
    expect(await listDeliveries(db(), refusals.id)).toHaveLength(1);
  });

  it("holds a disabled webhook's deliveries until it is enabled again, queues nothing new for it, and removing it removes them", async () => {
    const hook = await add();
    await release(root, promote(), alice);
    expect(await setWebhookEnabled(db(), admin, hook.id, false)).toBe(true);
    expect(await send()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    expect(receiver.received).toHaveLength(0);
    const back = await release(root, { kind: "rollback", version: PRODUCTION, minScore: 0.6, overrides: [], reason: "back" }, alice);
    expect(back.status).toBe("done");
    expect(await db().webhookDelivery.count()).toBe(1);
    await setWebhookEnabled(db(), admin, hook.id, true);
    expect((await send()).delivered).toBe(1);
    await removeWebhook(db(), admin, hook.id);
    expect(await listWebhooks(db())).toEqual([]);
    expect(await db().webhookDelivery.count()).toBe(0);
    expect(await db().webhookAttempt.count()).toBe(0);
    const actions = (await allEvents(db())).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["webhook.created", "webhook.disabled", "webhook.enabled", "webhook.removed"]));
  });
});

describe("retries", () => {
  it("follows the backoff schedule: doubling from 3 minutes, ten attempts over about a day", () => {
    const s = scheduleFromEnv({});
    const waits = Array.from({ length: 10 }, (_, i) => nextWaitMs(i + 1, s));
    expect(waits).toEqual([3, 6, 12, 24, 48, 96, 192, 384, 768, null].map((m) => (m === null ? null : m * 60_000)));
    const total = (waits.filter((w) => w !== null) as number[]).reduce((a, b) => a + b, 0);
    expect(total / 3_600_000).toBeGreaterThan(24);
    expect(total / 3_600_000).toBeLessThan(27);
    expect(scheduleFromEnv({ REGISTRY_WEBHOOKS_BACKOFF_SECONDS: "2", REGISTRY_WEBHOOKS_MAX_ATTEMPTS: "3" })).toEqual({
      maxAttempts: 3,
      firstWaitMs: 2000,
    });
    expect(scheduleFromEnv({ REGISTRY_WEBHOOKS_BACKOFF_SECONDS: "soon" })).toEqual(s);
  });

  it("retries a failing receiver on that schedule, then gives up visibly: failed, and audited", async () => {
    receiver.answer = () => ({ status: 500 });
    const hook = await add();
    await release(root, promote(), alice);
    let clock = Date.now();
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 10; attempt++) {
      expect((await send(new Date(clock)))[attempt < 10 ? "retrying" : "failed"]).toBe(1);
      const [d] = await listDeliveries(db(), hook.id);
      if (attempt < 10) {
        const due = Date.parse(d!.nextAttemptAt!);
        waits.push(due - clock);
        // Not a moment before it is due.
        expect(await send(new Date(due - 1))).toEqual({ delivered: 0, retrying: 0, failed: 0 });
        clock = due;
      }
    }
    expect(waits).toEqual([3, 6, 12, 24, 48, 96, 192, 384, 768].map((m) => m * 60_000));
    expect(receiver.received).toHaveLength(10);
    expect(new Set(receiver.received.map((r) => r.headers["x-registry-delivery"])).size).toBe(1);
    const [d] = await listDeliveries(db(), hook.id);
    expect(d).toMatchObject({ state: "failed", attempts: 10, lastStatus: 500, nextAttemptAt: null });
    expect(d?.attemptLog).toHaveLength(10);
    expect(await send(new Date(clock + 86_400_000))).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    const gaveUp = (await allEvents(db())).filter((e) => e.action === "webhook.delivery_failed");
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]?.reason).toContain("after 10 attempts");
    expect(JSON.parse(gaveUp[0]!.details)).toMatchObject({ deliveryId: d?.id, attempts: 10, lastStatus: 500 });
  });

  it("redelivers a failed delivery as a new delivery id with the same body", async () => {
    receiver.answer = () => ({ status: 503 });
    const hook = await add();
    await release(root, promote(), alice);
    await sendDue(db(), root, { source: "cli", policy: ALLOW_LOOPBACK, schedule: { maxAttempts: 1, firstWaitMs: 1000 } });
    const [failed] = await listDeliveries(db(), hook.id);
    expect(failed?.state).toBe("failed");
    receiver.answer = () => ({ status: 200 });
    const again = await redeliver(db(), admin, failed!.id);
    expect(again).toMatchObject({ state: "pending", redeliveryOf: failed?.id, attempts: 0 });
    expect((await send()).delivered).toBe(1);
    const [first, second] = receiver.received;
    expect(second?.headers["x-registry-delivery"]).toBe(again.id);
    expect(second?.headers["x-registry-delivery"]).not.toBe(first?.headers["x-registry-delivery"]);
    expect(second?.body).toBe(first?.body);
    expect(second?.signatureValid).toBe(true);
    expect((await allEvents(db())).some((e) => e.action === "webhook.redelivered")).toBe(true);
  });

  it("sends a backlog larger than one batch in one call, each delivery once", async () => {
    await add(["model.promoted", "model.rolled_back"]);
    for (let i = 0; i < 30; i++) {
      await release(root, promote(), alice);
      await release(root, { kind: "rollback", version: PRODUCTION, minScore: 0.6, overrides: [], reason: `back ${i}` }, alice);
    }
    expect(await db().webhookDelivery.count({ where: { state: "pending" } })).toBe(60);
    expect(await sendAllDue(db(), root, { source: "cli", policy: ALLOW_LOOPBACK })).toEqual({ delivered: 60, retrying: 0, failed: 0 });
    expect(new Set(receiver.received.map((r) => r.headers["x-registry-delivery"])).size).toBe(60);
    expect(receiver.received).toHaveLength(60);
  });

  it("takes over a delivery whose sender died mid-send only once its claim is stale", async () => {
    const hook = await add();
    await release(root, promote(), alice);
    const now = Date.now();
    // A sender claimed it and died (a killed server): its claim stays on the row.
    await db().webhookDelivery.updateMany({ data: { state: "sending", claim: "dead-sender", claimedAt: new Date(now).toISOString() } });
    expect(await send(new Date(now + CLAIM_STALE_MS - 1000))).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    expect(receiver.received).toHaveLength(0);
    expect(await send(new Date(now + CLAIM_STALE_MS + 1000))).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    const [d] = await listDeliveries(db(), hook.id);
    expect(d).toMatchObject({ state: "delivered", attempts: 1 });
  });

  it("follows no redirect: a 302 is a failed attempt and its target is never called", async () => {
    receiver.answer = (r) => (r.path === "/elsewhere" ? { status: 200 } : { status: 302, headers: { location: "/elsewhere" } });
    const hook = await add();
    await release(root, promote(), alice);
    expect((await send()).retrying).toBe(1);
    expect(receiver.received.map((r) => r.path)).toEqual(["/hooks/registry"]);
    const [d] = await listDeliveries(db(), hook.id);
    expect(d?.lastError).toContain("redirects are not followed");
  });

  it("sends a ping for `webhooks test`", async () => {
    const hook = await add();
    const ping = await enqueuePing(db(), admin, hook.id);
    expect(await sendDue(db(), root, { source: "cli", policy: ALLOW_LOOPBACK, only: [ping.id] })).toMatchObject({ delivered: 1 });
    expect(receiver.received[0]?.headers["x-registry-event"]).toBe("ping");
    expect(receiver.received[0]?.signatureValid).toBe(true);
  });
});

describe("one attempt", () => {
  const message = (url: string) => ({ url, secret: SECRET, type: "ping", deliveryId: "d-1", body: "{}" });

  it("gives up on a receiver that never answers after its timeout", async () => {
    receiver.delayMs = 30_000;
    const attempt = await postSigned(message(receiver.url), ALLOW_LOOPBACK, 300);
    expect(attempt).toMatchObject({ status: null, error: "No answer within 0.3 s." });
    expect(attempt.durationMs).toBeLessThan(10_000);
  });

  it("reads no more than 64 KiB of an endless answer", async () => {
    // An answer that never ends: the attempt must still finish, with its status.
    const endless = createServer((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 120);
      const more = () => {
        while (res.write(chunk)) {}
        res.once("drain", more);
      };
      more();
    });
    await new Promise<void>((r) => endless.listen(0, "127.0.0.1", () => r()));
    try {
      const { port } = endless.address() as AddressInfo;
      const attempt = await postSigned(message(`http://127.0.0.1:${port}/`), ALLOW_LOOPBACK, 20_000);
      expect(attempt).toMatchObject({ status: 200, error: null });
    } finally {
      endless.closeAllConnections();
      endless.close();
    }
  });
});

describe("targets", () => {
  it("refuses private, loopback and link-local addresses by default, when added and when sent", async () => {
    const strict = addressPolicy({});
    for (const url of [
      "http://127.0.0.1:9/x",
      "http://localhost/x",
      "http://[::1]/x",
      "http://[::ffff:127.0.0.1]/x",
      "http://169.254.169.254/latest/meta-data",
      "http://10.1.2.3/x",
      "https://192.168.0.1/x",
      "http://0.0.0.0/x",
    ]) {
      expect(() => checkTargetUrl(url, strict), url).toThrow(PrivateAddressError);
    }
    expect(checkTargetUrl("https://hooks.example.com/registry?x=1", strict)).toBe("https://hooks.example.com/registry?x=1");
    expect(isRefusedAddress("93.184.216.34", strict)).toBe(false);
    expect(isRefusedAddress("2606:4700::1111", strict)).toBe(false);
    expect(isRefusedAddress("127.0.0.1", ALLOW_LOOPBACK)).toBe(false);
    expect(isRefusedAddress("10.0.0.1", ALLOW_LOOPBACK)).toBe(true);
    expect(isRefusedAddress("10.0.0.1", addressPolicy({ REGISTRY_WEBHOOKS_ALLOW_PRIVATE: "1" }))).toBe(false);
    expect(() => addressPolicy({ REGISTRY_WEBHOOKS_ALLOW_PRIVATE: "intranet" })).toThrow(WebhookUrlError);

    // Added while allowed, sent once the server refuses: a host name is checked on the address it resolves to.
    const hook = await add(["model.promoted"], `http://localhost:${receiver.port}/hooks/registry`);
    await release(root, promote(), alice);
    expect(await sendDue(db(), root, { source: "cli", policy: strict })).toMatchObject({ retrying: 1 });
    expect(receiver.received).toHaveLength(0);
    const [d] = await listDeliveries(db(), hook.id);
    expect(d?.lastError).toContain("private, loopback or internal address");
  });

  it("takes only http(s) URLs without credentials or fragments, and checks the secret and events", async () => {
    for (const url of ["ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "http://user:pw@example.com/", "http://example.com/#x", "not a url"]) {
      expect(() => checkTargetUrl(url, ALLOW_LOOPBACK), url).toThrow(WebhookUrlError);
    }
    await expect(addWebhook(db(), root, admin, { url: receiver.url, secret: "short", events: ["model.promoted"] })).rejects.toThrow(
      /16 to 512 characters/,
    );
    await expect(addWebhook(db(), root, admin, { url: receiver.url, secret: SECRET, events: ["model.deleted"] })).rejects.toThrow(/Unknown event/);
    expect(await db().webhook.count()).toBe(0);
  });
});

describe("the secret", () => {
  it("is stored encrypted with a key in .registry/, and never reaches the audit log, the database file or a view", async () => {
    const hook = await add();
    await release(root, promote(), alice);
    await send();
    await redeliver(db(), admin, (await listDeliveries(db(), hook.id))[0]!.id);
    await closeAudit();

    const key = join(root, STATE_DIR, KEY_FILE);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(key).size).toBe(32);
    const dbDir = join(databaseFile(root), "..");
    for (const f of readdirSync(dbDir).filter((f) => f.startsWith("audit.db"))) {
      expect(readFileSync(join(dbDir, f)).includes(SECRET), f).toBe(false);
    }
    const events = await allEvents(db());
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect(JSON.stringify(await listWebhooks(db()))).not.toContain(SECRET);
    expect(JSON.stringify(await listDeliveries(db(), hook.id))).not.toContain(SECRET);
    expect(JSON.stringify(await listWebhooks(db()))).not.toContain("secretSealed");
  });

  it("round-trips every field of the webhook tables through the client (schema and migration agree)", async () => {
    const h = { url: "http://x/", secretSealed: "v1.a.b.c", events: "model.promoted", enabled: false, createdAt: "t", createdBy: "b" };
    const hook = await db().webhook.create({ data: h });
    expect(await db().webhook.findUniqueOrThrow({ where: { id: hook.id } })).toEqual({ ...h, id: hook.id });
    const d = {
      id: "d1",
      webhookId: hook.id,
      type: "ping",
      payload: "{}",
      state: "pending",
      attempts: 2,
      nextAttemptAt: "n",
      claim: "c",
      claimedAt: "ca",
      lastStatus: 500,
      lastError: "e",
      createdAt: "t",
      deliveredAt: "da",
      redeliveryOf: "r",
      auditSeq: 7,
    };
    await db().webhookDelivery.create({ data: d });
    expect(await db().webhookDelivery.findUniqueOrThrow({ where: { id: "d1" } })).toEqual(d);
    const a = { deliveryId: "d1", at: "t", durationMs: 12, status: 204, error: null };
    const attempt = await db().webhookAttempt.create({ data: a });
    expect(await db().webhookAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).toEqual({ ...a, id: attempt.id });
  });
});
