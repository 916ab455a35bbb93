import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { BEST, captureApplyRequest, PRODUCTION, resetProduction, sha, signInAs, stateFile } from "./accounts";
import { refusalsAccountedFor } from "./raw-requests";

// Who may do what, checked in a real browser and with raw HTTP: the server never relies on the UI.

test.describe("a viewer", () => {
  test.use({ storageState: stateFile("viewer") });

  test("reads everything but sees no promote or rollback button, no export, no accounts page", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("region", { name: "Production" })).toBeVisible();
    await expect(page.getByRole("button", { name: /Promote|Roll back/ })).toHaveCount(0);
    await page.goto(`/versions/${BEST}`);
    await expect(page.getByRole("heading", { name: "Readiness for production" })).toBeVisible();
    await expect(page.getByRole("button", { name: /Promote|Rollback/ })).toHaveCount(0);
    await page.goto("/audit");
    await expect(page.getByRole("heading", { name: "Audit log" })).toBeVisible();
    await expect(page.getByRole("link", { name: /Export/ })).toHaveCount(0);
    const exportResponse = await page.request.get("/audit/export?format=json");
    expect(exportResponse.status()).toBe(403);
    await page.goto("/admin/users");
    await expect(page).toHaveURL(/\/forbidden/);
    // The page names the role a person can ask for, not an internal permission.
    await expect(page.getByRole("main")).toContainText("It needs the admin role.");
    await expect(page.getByRole("main")).not.toContainText("users.manage");
  });

  test("the production version's readiness says it is production and compares it with nothing, not itself", async ({ page }) => {
    resetProduction();
    await page.goto(`/versions/${PRODUCTION}`);
    const card = page.getByRole("region", { name: "Readiness for production" });
    await expect(card).toContainText("This version is production.");
    await expect(card.getByText("Already live")).toBeVisible();
    await expect(card).not.toContainText("No regression vs production");
    await expect(card).toContainText("Meets the release threshold");
    await page.goto(`/versions/${BEST}`);
    await expect(page.getByRole("region", { name: "Readiness for production" })).toContainText("No regression vs production");
  });
});

test.describe("signed out", () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test("every page sends you to sign in, and a wrong password is refused", async ({ page }) => {
    for (const path of ["/", `/versions/${BEST}`, "/compare", "/audit", "/admin/users"]) {
      await page.goto(path);
      await expect(page).toHaveURL(/\/login/);
    }
    await page.getByLabel("Username").fill("releaser");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("status")).toContainText("Wrong username or password");
    expect((await page.request.get("/audit/export?format=csv")).status()).toBe(401);
  });

  test("sign-in and sign-out work", async ({ page }) => {
    await signInAs(page, "viewer");
    await expect(page.getByText("viewer (viewer)")).toBeVisible();
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);
  });
});

test.describe("an admin", () => {
  test.use({ storageState: stateFile("admin") });

  test("creates an account that can then sign in with its role", async ({ page, browser }) => {
    await page.goto("/admin/users");
    await page.getByLabel("Username").fill("dana");
    await page.getByLabel("Initial password").fill("dana-initial-pw");
    await page.getByLabel("auditor").check();
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("status")).toContainText("Created dana.");
    await expect(page.getByRole("table")).toContainText("dana");
    await expect(page.getByRole("button", { name: /Promote/ })).toHaveCount(0);

    const other = await browser.newContext({ storageState: { cookies: [], origins: [] } });
    const p = await other.newPage();
    await p.goto("/login");
    await p.getByLabel("Username").fill("dana");
    await p.getByLabel("Password").fill("dana-initial-pw");
    await p.getByRole("button", { name: "Sign in" }).click();
    await expect(p.getByText("dana (auditor)")).toBeVisible();
    await other.close();
  });
});

test.describe("raw requests to the promote action", () => {
  test.use({ storageState: stateFile("releaser") });

  test("without a session or with a viewer's session are refused, audited, and change nothing on disk", async ({ page, baseURL }) => {
    resetProduction();
    // Capture what the releaser's browser sends to the apply action, without letting it through.
    const sent = await captureApplyRequest(page, "captured, never sent");
    const before = readFileSync(`${process.env.E2E_DIR}/registry/models/production_latest.joblib`);
    const anonymousBefore = refusalsAccountedFor("auth.denied", "anonymous", "model.apply");
    const viewerBefore = refusalsAccountedFor("auth.denied", "viewer", "model.apply");

    const viewerCookie = JSON.parse(readFileSync(stateFile("viewer"), "utf8")).cookies.find(
      (c: { name: string }) => c.name === "registry_session",
    );
    for (const cookie of ["", `registry_session=${viewerCookie.value}`, "registry_session=forged-or-expired"]) {
      const res = await sent.replay(baseURL as string, { cookie: cookie || null });
      const text = await res.text();
      expect(text).toMatch(/Sign in first|Your role does not allow this/);
    }
    expect(readFileSync(`${process.env.E2E_DIR}/registry/models/production_latest.joblib`)).toEqual(before);
    expect(sha("models/production_latest.joblib")).toBe(sha(`models/${PRODUCTION}.joblib`));
    // Each refusal is in the log, chained one by one or counted into a summary (e2e/refusal-flood.spec.ts).
    expect(refusalsAccountedFor("auth.denied", "anonymous", "model.apply") - anonymousBefore).toBe(2);
    expect(refusalsAccountedFor("auth.denied", "viewer", "model.apply") - viewerBefore).toBe(1);
  });
});
