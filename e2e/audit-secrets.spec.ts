import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { cli, stateFile } from "./accounts";

// Issue 16: what reaches the audit log must never be a secret, whoever can read the log afterwards.

const dir = () => process.env.E2E_DIR ?? "/tmp";

/** Every byte the server's audit database holds on disk (the file, its write-ahead log, shared memory). */
function databaseBytes(): string {
  const file = join(dir(), "audit.db");
  return [file, `${file}-wal`, `${file}-shm`]
    .filter(existsSync)
    .map((f) => readFileSync(f).toString("latin1"))
    .join("\n");
}

test("an admin's refused new account leaves its password in no event, page, export or database byte", async ({ browser }) => {
  const password = `Pw-${Date.now().toString(36)}-not-for-the-log`;
  const admin = await browser.newContext({ storageState: stateFile("admin") });
  const page = await admin.newPage();
  await page.goto("/admin/users");
  await page.getByLabel("Username").fill("forgot-a-role");
  await page.getByLabel("Initial password").fill(password);
  // No role ticked: the action refuses the input, and that refusal is audited.
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("status")).toContainText("Some fields need attention.");
  await expect(page.getByText("Choose at least one role.")).toBeVisible();
  expect((await page.content()).includes(password), "the accounts page").toBe(false);
  await admin.close();

  const auditor = await browser.newContext({ storageState: stateFile("auditor") });
  const reader = await auditor.newPage();
  await reader.goto("/audit?action=request.rejected");
  await expect(reader.getByText("Refused user.create: invalid input (role).").first()).toBeVisible();
  // Every event's evidence opened, as a curious viewer would.
  for (const summary of await reader.locator("details summary").all()) await summary.click();
  expect((await reader.content()).includes(password), "the audit page").toBe(false);
  for (const format of ["json", "csv"]) {
    const exported = await (await reader.request.get(`/audit/export?format=${format}`)).text();
    expect(exported).toContain("request.rejected");
    expect(exported.includes(password), `${format} export`).toBe(false);
  }
  await auditor.close();

  expect(databaseBytes().includes(password), "the database file").toBe(false);
  const serverLog = readFileSync(join(dir(), "server.log"), "utf8");
  // The log is the running server's (so the check below is not vacuous).
  expect(serverLog).toContain("Listening on");
  expect(serverLog.includes(password), "the server's log").toBe(false);
  expect(JSON.parse(cli("audit", "verify", "--json").stdout)).toMatchObject({ ok: true });
});
