import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { startOwnServer } from "./own-server";
import { queryFile, withFields } from "./sign-in-client";

// The very first visit to a new registry: whoever completes set-up first becomes the only admin, and the log
// says so. Raced here with ten set-up posts at once against a server of its own over an empty registry.
test.use({ storageState: { cookies: [], origins: [] } });

test("ten set-up requests at once on an empty registry make exactly one admin, audited", async ({ browser }) => {
  test.setTimeout(120_000);
  const server = await startOwnServer("first-run", ["bash", "scripts/start.sh", "-p", "0", "-H", "127.0.0.1"]);
  try {
    const context = await browser.newContext({ baseURL: server.url, storageState: { cookies: [], origins: [] } });
    const page = await context.newPage();
    await page.goto("/");
    await expect(page).toHaveURL(/\/setup$/);

    // The browser's own set-up request, captured and never delivered, then sent ten times at once.
    let captured: { headers: Record<string, string>; body: string } | null = null;
    await page.route("**/setup", async (route) => {
      const req = route.request();
      if (req.method() === "POST" && req.headers()["next-action"]) {
        captured = { headers: req.headers(), body: req.postDataBuffer()?.toString("latin1") ?? "" };
        await route.abort();
        return;
      }
      await route.continue();
    });
    await page.getByLabel("Admin username").fill("capture");
    await page.getByLabel("Password (10 characters or more)").fill("first-admin-password");
    await page.getByLabel("Repeat the password").fill("first-admin-password");
    await page.getByRole("button", { name: "Create the admin account" }).click();
    await expect.poll(() => captured !== null).toBe(true);
    const sent = captured as unknown as { headers: Record<string, string>; body: string };

    const answers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const res = await fetch(`${server.url}/setup`, {
          method: "POST",
          headers: {
            "next-action": sent.headers["next-action"] as string,
            "content-type": sent.headers["content-type"] as string,
            accept: "text/x-component",
            origin: server.url,
          },
          body: new Uint8Array(Buffer.from(withFields(sent.body, { username: `admin-${i}` }), "latin1")),
        });
        return {
          status: res.status,
          signedIn: (res.headers.get("set-cookie") ?? "").includes("registry_session="),
          text: await res.text(),
        };
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.filter((a) => a.signedIn)).toHaveLength(1);
    expect(answers.filter((a) => a.text.includes("An admin already exists"))).toHaveLength(9);

    const db = join(server.dir, "audit.db");
    const users = queryFile<{ username: string; roles: string }>(db, "SELECT username, roles FROM User");
    expect(users).toHaveLength(1);
    expect(users[0]?.roles).toBe("admin");
    const winner = users[0]?.username as string;
    const events = queryFile<{ actor: string; outcome: string; details: string }>(
      db,
      "SELECT actor, outcome, details FROM AuditEvent WHERE action = 'user.created'",
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: winner, outcome: "succeeded" });
    expect(JSON.parse(events[0]?.details ?? "{}")).toMatchObject({ username: winner, roles: ["admin"], via: "first-run set-up" });
    const verify = spawnSync(
      "node",
      [join(process.cwd(), "cli", "bin.mjs"), "audit", "verify", "--json", "--root", join(server.dir, "registry")],
      {
        encoding: "utf8",
        env: { ...process.env, DATABASE_URL: `file:${db}` },
      },
    );
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });

    // Set-up is over: the page is gone for everyone.
    expect((await page.request.get("/setup")).status()).toBe(404);
    await context.close();
  } finally {
    await server.stop();
  }
});
