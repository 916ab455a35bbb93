import { expect, test } from "@playwright/test";
import { cli, stateFile } from "./accounts";

// An admin disables an account: the person's open browser is signed out at its next click, the account
// cannot sign in until it is enabled again, and both changes are in the audit log with the admin's name.
test.use({ storageState: stateFile("admin") });

test("disabling an account sends its open session to sign-in on the next navigation", async ({ page, browser }) => {
  const added = cli("users", "add", "erin-disable", "--role", "viewer", "--json");
  expect(added.status).toBe(0);
  const { password } = JSON.parse(added.stdout) as { password: string };

  const erin = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const theirs = await erin.newPage();
  await theirs.goto("/login");
  await theirs.getByLabel("Username").fill("erin-disable");
  await theirs.getByLabel("Password").fill(password);
  await theirs.getByRole("button", { name: "Sign in" }).click();
  await expect(theirs.getByText("erin-disable (viewer)")).toBeVisible();

  await page.goto("/admin/users");
  await page.getByRole("table").getByRole("link", { name: "erin-disable" }).click();
  await expect(page.getByRole("heading", { name: "erin-disable" })).toBeVisible();
  await page.getByRole("button", { name: "Disable account" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Disabled erin-disable" })).toContainText("1 session(s) ended.");

  await theirs.getByRole("link", { name: "Audit" }).click();
  await expect(theirs).toHaveURL(/\/login/);
  await theirs.getByLabel("Username").fill("erin-disable");
  await theirs.getByLabel("Password").fill(password);
  await theirs.getByRole("button", { name: "Sign in" }).click();
  await expect(theirs.getByRole("status")).toContainText("Wrong username or password");

  await page.getByRole("button", { name: "Enable account" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Enabled erin-disable" })).toBeVisible();
  await theirs.getByRole("button", { name: "Sign in" }).click();
  await expect(theirs.getByText("erin-disable (viewer)")).toBeVisible();
  await erin.close();

  await page.goto("/audit?actor=admin");
  const events = page.getByRole("list", { name: "Audit events" });
  await expect(events.getByRole("listitem").filter({ hasText: "user.disabled" })).toContainText("erin-disable");
  await expect(events.getByRole("listitem").filter({ hasText: "user.enabled" })).toContainText("erin-disable");
});

test("the last admin cannot take admin away from itself: the page says why and nothing changes", async ({ page }) => {
  await page.goto("/admin/users/admin");
  const roles = page.getByRole("group", { name: "Roles of admin" });
  await roles.getByLabel("admin").uncheck();
  await roles.getByLabel("viewer").check();
  await page.getByRole("button", { name: "Save roles" }).click();
  await expect(page.getByRole("status").filter({ hasText: "last admin" })).toBeVisible();
  // The boxes still show what was asked, so the admin sees what was refused.
  await expect(roles.getByLabel("viewer")).toBeChecked();
  await page.goto("/admin/users");
  expect(JSON.parse(cli("users", "list", "--json").stdout).users).toContainEqual(
    expect.objectContaining({ username: "admin", roles: ["admin"] }),
  );
});
