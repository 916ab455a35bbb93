import { expect, test } from "@playwright/test";
import { stateFile } from "./accounts";

// A server-side refusal keeps what was typed (never a password) and puts its message beside the field.

test.describe("an admin creating an account", () => {
  test.use({ storageState: stateFile("admin") });

  test("keeps the name and roles when the name is taken, and says so at the name", async ({ page }) => {
    await page.goto("/admin/users");
    await page.getByLabel("Username").fill("viewer");
    await page.getByLabel("Initial password").fill("a-long-initial-pw");
    const roles = page.getByRole("group", { name: "Roles" });
    await roles.getByLabel("auditor").check();
    await roles.getByLabel("releaser").check();
    await page.getByRole("button", { name: "Create account" }).click();
    const name = page.getByLabel("Username");
    await expect(name).toHaveAttribute("aria-invalid", "true");
    await expect(page.locator(`#${await name.getAttribute("aria-describedby")}`)).toContainText('"viewer" is taken');
    await expect(name).toHaveValue("viewer");
    await expect(roles.getByLabel("auditor")).toBeChecked();
    await expect(roles.getByLabel("releaser")).toBeChecked();
    await expect(roles.getByLabel("admin")).not.toBeChecked();
    await expect(page.getByLabel("Initial password")).toHaveValue("");
  });
});

test.describe("signing in", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("keeps the username after a wrong password, and never the password", async ({ page }) => {
    await page.goto("/login");
    await page.getByLabel("Username").fill("auditor");
    await page.getByLabel("Password").fill("wrong password here");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("status")).toContainText("Wrong username or password");
    await expect(page.getByLabel("Username")).toHaveValue("auditor");
    await expect(page.getByLabel("Password")).toHaveValue("");
  });
});

test.describe("a release manager", () => {
  test.use({ storageState: stateFile("releaser") });

  test("keeps the reason typed for a promotion the server refused", async ({ page }) => {
    await page.goto("/versions/baseline_logreg_20250114T091500Z");
    await page.getByRole("button", { name: "Promote", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByRole("table", { name: "Readiness checks" })).toBeVisible();
    await dialog.getByLabel(/Reason for this change/).fill("Trying the old baseline for EU");
    await dialog.getByRole("button", { name: "Submit and record the refusal" }).click();
    await expect(dialog.getByRole("status")).toContainText("Refused");
    await expect(dialog.getByLabel(/Reason for this change/)).toHaveValue("Trying the old baseline for EU");
  });
});
