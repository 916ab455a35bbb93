import { readFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { cli, stateFile } from "./accounts";
import { refusalsAccountedFor } from "./raw-requests";

// The account actions are public endpoints like any server action: a raw POST with another person's
// session, a session that must change its password first, or none at all changes nothing and is audited.
test.use({ storageState: stateFile("admin") });

const listed = (name: string) =>
  (JSON.parse(cli("users", "list", "--json").stdout).users as { username: string; disabled: boolean }[]).find((u) => u.username === name);

test("a disable request replayed without an admin's session is refused and changes nothing", async ({ page, browser, baseURL }) => {
  expect(cli("users", "add", "gil-target", "--role", "viewer").status).toBe(0);
  expect(cli("users", "add", "hal-pending", "--role", "admin").status).toBe(0);
  const reset = JSON.parse(cli("users", "reset-password", "hal-pending", "--json").stdout) as { password: string };

  // What the admin's browser sends to "Disable account", captured and never delivered.
  let sent: { headers: Record<string, string>; body: Buffer } | null = null;
  await page.route("**/*", async (route) => {
    const req = route.request();
    if (req.method() === "POST" && req.headers()["next-action"]) {
      sent = { headers: req.headers(), body: req.postDataBuffer() as Buffer };
      await route.abort();
      return;
    }
    await route.continue();
  });
  await page.goto("/admin/users/gil-target");
  await page.getByRole("button", { name: "Disable account" }).click();
  await expect.poll(() => sent !== null).toBe(true);
  await page.unroute("**/*");
  const captured = sent as unknown as { headers: Record<string, string>; body: Buffer };

  // A session whose password was reset: signed in, but good for /account/password only (hal is even an admin).
  const halContext = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const hal = await halContext.newPage();
  await hal.goto("/login");
  await hal.getByLabel("Username").fill("hal-pending");
  await hal.getByLabel("Password").fill(reset.password);
  await hal.getByRole("button", { name: "Sign in" }).click();
  await expect(hal).toHaveURL(/\/account\/password/);
  const halCookie = (await halContext.cookies()).find((c) => c.name === "registry_session")!.value;
  await halContext.close();

  const viewerCookie = JSON.parse(readFileSync(stateFile("viewer"), "utf8")).cookies.find(
    (c: { name: string }) => c.name === "registry_session",
  ).value;
  const anonymousBefore = refusalsAccountedFor("auth.denied", "anonymous", "user.disable");
  const viewerBefore = refusalsAccountedFor("auth.denied", "viewer", "user.disable");
  for (const cookie of [null, `registry_session=${viewerCookie}`, `registry_session=${halCookie}`]) {
    const res = await fetch(`${baseURL}/admin/users/gil-target`, {
      method: "POST",
      headers: {
        "next-action": captured.headers["next-action"] as string,
        "content-type": captured.headers["content-type"] as string,
        accept: "text/x-component",
        origin: baseURL as string,
        ...(cookie ? { cookie } : {}),
      },
      body: new Uint8Array(captured.body),
    });
    expect(await res.text()).toMatch(/Sign in first|Your role does not allow this/);
  }
  expect(listed("gil-target")).toMatchObject({ disabled: false });
  // Each refusal is in the log, chained one by one or counted into a summary (e2e/refusal-flood.spec.ts):
  // no session and a must-change-password session are both anonymous.
  expect(refusalsAccountedFor("auth.denied", "anonymous", "user.disable") - anonymousBefore).toBe(2);
  expect(refusalsAccountedFor("auth.denied", "viewer", "user.disable") - viewerBefore).toBe(1);
});

test("the account pages have no serious or critical axe violations", async ({ page }) => {
  for (const path of ["/admin/users", "/admin/users/viewer", "/account/password"]) {
    await page.goto(path);
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
    const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(
      serious.map((v) => `${path} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
      path,
    ).toEqual([]);
  }
});
