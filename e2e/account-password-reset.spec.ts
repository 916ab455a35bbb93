import { expect, test } from "@playwright/test";
import { cli, stateFile } from "./accounts";

// An admin resets a forgotten password: the person's sessions end, the temporary password opens only the
// page to choose a new one, and after that everything works with the new password alone.
test.use({ storageState: stateFile("admin") });

test("a reset password must be changed at the next sign-in before anything else", async ({ page, browser }) => {
  expect(cli("users", "add", "frank-reset", "--role", "releaser").status).toBe(0);

  await page.goto("/admin/users/frank-reset");
  await page.getByLabel("Temporary password").fill("temporary-for-frank");
  await page.getByRole("button", { name: "Reset password" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Reset the password of frank-reset" })).toBeVisible();
  await expect(page.getByText("must change password")).toBeVisible();

  const frank = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const theirs = await frank.newPage();
  await theirs.goto("/login");
  await theirs.getByLabel("Username").fill("frank-reset");
  await theirs.getByLabel("Password").fill("temporary-for-frank");
  await theirs.getByRole("button", { name: "Sign in" }).click();
  await expect(theirs).toHaveURL(/\/account\/password/);
  await expect(theirs.getByRole("heading", { name: "Choose a new password" })).toBeVisible();

  // Nothing else opens with the temporary password: pages lead back here, actions are refused.
  for (const path of ["/", "/audit", "/versions/candidate_logreg_20250305T101000Z"]) {
    await theirs.goto(path);
    await expect(theirs).toHaveURL(/\/account\/password/);
  }
  expect((await theirs.request.get("/audit/export?format=json")).status()).toBe(401);

  await theirs.getByLabel("Current password").fill("not the temporary one");
  await theirs.getByLabel(/^New password/).fill("frank-own-password");
  await theirs.getByLabel("Repeat the new password").fill("frank-own-password");
  await theirs.getByRole("button", { name: "Change password" }).click();
  const current = theirs.getByLabel("Current password");
  await expect(current).toHaveAttribute("aria-invalid", "true");
  await expect(theirs.locator(`#${await current.getAttribute("aria-describedby")}`)).toContainText("not your current password");
  // Passwords are never handed back to the page.
  await expect(current).toHaveValue("");

  await current.fill("temporary-for-frank");
  await theirs.getByLabel(/^New password/).fill("frank-own-password");
  await theirs.getByLabel("Repeat the new password").fill("frank-own-password");
  await theirs.getByRole("button", { name: "Change password" }).click();
  await expect(theirs).toHaveURL(/\/$/);
  await expect(theirs.getByText("frank-reset (releaser)")).toBeVisible();
  await frank.close();

  await page.goto("/audit");
  const events = page.getByRole("list", { name: "Audit events" });
  await expect(events.getByRole("listitem").filter({ hasText: "user.password_changed" }).first()).toContainText("frank-reset");
  await expect(events.getByRole("listitem").filter({ hasText: "user.password_reset" }).first()).toContainText("admin");
  await expect(events).not.toContainText("temporary-for-frank");
  await expect(events).not.toContainText("frank-own-password");
});
