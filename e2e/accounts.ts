import { join } from "node:path";
import { expect, type Page } from "@playwright/test";

/** One account per role, created by e2e/serve.mjs in the throwaway database. */
export type E2ERole = "admin" | "releaser" | "viewer" | "auditor";
export const password = (role: E2ERole) => `${role}-e2e-password`;
export const stateFile = (role: E2ERole) => join(process.env.E2E_DIR ?? "/tmp", `state-${role}.json`);
export const registryDir = () => join(process.env.E2E_DIR ?? "/tmp", "registry");

/** Signs in through the real form, as a person would. */
export async function signInAs(page: Page, role: E2ERole): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Username").fill(role);
  await page.getByLabel("Password").fill(password(role));
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).not.toHaveURL(/\/login/);
}
