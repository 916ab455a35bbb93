import { spawnSync } from "node:child_process";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, test } from "@playwright/test";
import { type Receiver, startReceiver } from "../lib/webhooks/test-support/receiver";
import { type OwnServer, startOwnServer } from "./own-server";

// An admin registers a webhook in the dashboard; a promotion happens while the receiver is down; the server
// is restarted; the receiver comes back: the delivery arrives exactly once, signed, and the admin sees its
// attempts. The secret is on no page, in no log line and in no audit event. A server of its own, because
// it is restarted, with retries a second apart so a person watching the page need not wait minutes.

const SECRET = "e2e-webhook-secret-7d1f0a9b3c";
const ADMIN_PASSWORD = "webhook-admin-password";
test.use({ storageState: { cookies: [], origins: [] } });

const ENV = { REGISTRY_WEBHOOKS_ALLOW_PRIVATE: "127.0.0.1", REGISTRY_WEBHOOKS_BACKOFF_SECONDS: "1" };
const start = (fresh: boolean) => startOwnServer("webhooks", ["bash", "scripts/start.sh", "-p", "0", "-H", "127.0.0.1"], ENV, undefined, fresh);

function cli(server: OwnServer, args: string[], input?: string) {
  const r = spawnSync("node", [join(process.cwd(), "cli", "bin.mjs"), ...args, "--root", join(server.dir, "registry")], {
    encoding: "utf8",
    input,
    env: { ...process.env, ...ENV, DATABASE_URL: `file:${join(server.dir, "audit.db")}` },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The page's serious or critical axe violations, as readable lines. */
async function axeProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(" ")).join("\n  ")}`);
}

/** Reloads the webhook's page until `text` shows, as a person watching it would. */
async function waitForText(page: Page, url: string, text: string | RegExp) {
  await expect(async () => {
    await page.goto(url);
    await expect(page.getByRole("table")).toContainText(text, { timeout: 1000 });
  }).toPass({ timeout: 120_000 });
}

test("a promotion made while the receiver is down arrives once, after a server restart, signed and visible", async ({ browser }) => {
  test.setTimeout(180_000);
  // A free port for the receiver, closed for now: the receiver is down.
  const probe = await startReceiver(SECRET);
  const port = probe.port;
  await probe.close();
  let server = await start(true);
  let receiver: Receiver | null = null;
  const pages: string[] = [];
  let firstRun = "";
  try {
    expect(cli(server, ["users", "add", "ada", "--role", "admin", "--password-stdin"], ADMIN_PASSWORD).status).toBe(0);
    const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel("Username").fill("ada");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).not.toHaveURL(/\/login/);

    await page.getByRole("link", { name: "Webhooks" }).click();
    await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
    // An internal address the server does not allow is refused beside the field, and audited.
    await page.getByLabel("Receiver URL").fill("http://10.0.0.7/hook");
    await page.getByLabel("Signing secret").fill(SECRET);
    await page.getByRole("button", { name: "Add webhook" }).click();
    await expect(page.locator("#url-error")).toContainText("private, loopback or internal address");
    await expect(page.getByLabel("Signing secret")).toHaveValue("");

    await page.getByLabel("Receiver URL").fill(`http://127.0.0.1:${port}/hook`);
    await page.getByLabel("Signing secret").fill(SECRET);
    await page.getByRole("button", { name: "Add webhook" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Added webhook #1." })).toBeVisible();
    await page.reload();
    await expect(page.getByRole("table")).toContainText(`http://127.0.0.1:${port}/hook`);
    pages.push(await page.content());

    // The promotion is not held up by the receiver being down.
    const promoted = cli(server, ["promote", "--json", "--reason", "weekly release"]);
    expect(JSON.parse(promoted.stdout).promoted).toBe(true);
    const detail = () => `${server.url}/admin/webhooks/1`;
    await waitForText(page, detail(), "ECONNREFUSED");
    pages.push(await page.content());

    firstRun = server.output();
    await server.stop();
    receiver = await startReceiver(SECRET, port);
    server = await start(false);
    await waitForText(page, detail(), "delivered");
    pages.push(await page.content());

    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.signatureValid).toBe(true);
    expect(got.headers["x-registry-event"]).toBe("model.promoted");
    expect(JSON.parse(got.body)).toMatchObject({ type: "model.promoted", data: { reason: "weekly release" } });
    const deliveryId = String(got.headers["x-registry-delivery"]);
    expect(await axeProblems(page)).toEqual([]);
    const row = page.locator(`tr[data-delivery="${deliveryId}"]`);
    await expect(row).toContainText("delivered");
    await expect(row).toContainText("ECONNREFUSED");
    await expect(row).toContainText("HTTP 204");

    // Redelivered from the page: a new delivery id, the same body.
    await row.getByRole("button", { name: "Redeliver" }).click();
    await expect(row.getByRole("status")).toContainText("Queued redelivery");
    await expect.poll(() => receiver?.received.length, { timeout: 30_000 }).toBe(2);
    const again = receiver.received[1]!;
    expect(again.headers["x-registry-delivery"]).not.toBe(deliveryId);
    expect(again.body).toBe(got.body);
    expect(again.signatureValid).toBe(true);
    // Each delivery id arrived exactly once.
    expect(receiver.received.filter((r) => r.headers["x-registry-delivery"] === deliveryId)).toHaveLength(1);

    await page.goto(`${server.url}/admin/webhooks`);
    await page.getByRole("button", { name: "Send test" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Ping delivered (HTTP 204)." })).toBeVisible();
    pages.push(await page.content());
    expect(await axeProblems(page)).toEqual([]);

    const audit = cli(server, ["audit", "list", "--json", "--limit", "500"]);
    expect(audit.stdout).toContain("webhook.created");
    expect(audit.stdout).toContain("webhook.change_refused");
    expect(audit.stdout).toContain("webhook.redelivered");
    for (const text of [...pages, audit.stdout, cli(server, ["webhooks", "list", "--json"]).stdout, firstRun, server.output()]) {
      expect(text).not.toContain(SECRET);
    }
    await context.close();
  } finally {
    await server.stop();
    await receiver?.close();
  }
});
