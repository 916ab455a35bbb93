import { readFileSync } from "node:fs";
import { type Browser, expect, type Page } from "@playwright/test";
import { type E2ERole, signInAs, stateFile } from "./accounts";

// Helpers for the two-person rule's journeys (approval-*.spec.ts).

/** Turns the two-person rule on or off through the admin's form on /approvals, as an admin would. */
export async function setApprovals(browser: Browser, baseURL: string, mode: "off" | "required"): Promise<void> {
  const context = await browser.newContext({ baseURL, storageState: stateFile("admin") });
  const page = await context.newPage();
  await page.goto("/approvals");
  await page.getByLabel("Two-person rule").selectOption(mode);
  await page.getByRole("button", { name: "Save settings" }).click();
  await expect(page.getByRole("status").filter({ hasText: /Saved|Nothing changed/ })).toBeVisible();
  await context.close();
}

/** Sets the person behind an account through the admin's form on /admin/users (empty: the username). */
export async function setPerson(browser: Browser, baseURL: string, username: string, person: string): Promise<void> {
  const context = await browser.newContext({ baseURL, storageState: stateFile("admin") });
  const page = await context.newPage();
  await page.goto("/admin/users");
  await page.getByLabel("Account", { exact: true }).selectOption(username);
  await page.getByLabel("Person (full name or email)").fill(person);
  await page.getByRole("button", { name: "Save person" }).click();
  await expect(page.getByText(`${username} is now ${person || "their username"} for the two-person rule.`)).toBeVisible();
  await context.close();
}

/** A page in a fresh browser context, signed in through the form as `role`. */
export async function signedIn(browser: Browser, baseURL: string, role: E2ERole): Promise<Page> {
  // Contexts made in a test inherit the project's storageState: start signed out on purpose.
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await signInAs(page, role);
  return page;
}

/** The session cookie header of a role signed in by e2e/auth.setup.ts. */
export function sessionCookie(role: E2ERole): string {
  const state = JSON.parse(readFileSync(stateFile(role), "utf8")) as { cookies: { name: string; value: string }[] };
  return state.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
}

/** A server action POST the page made, captured and never delivered, to replay as another person. */
export interface CapturedPost {
  replay(baseURL: string, path: string, cookie: string): Promise<Response>;
}

/** Starts capturing the next server action POST whose body contains `marker` (aborting it). */
export function capturePost(page: Page, marker: string): { captured: () => CapturedPost | null } {
  let sent: { headers: Record<string, string>; body: Buffer } | null = null;
  void page.route("**/*", async (route) => {
    const req = route.request();
    if (req.method() === "POST" && req.headers()["next-action"] && (req.postDataBuffer()?.includes(marker) ?? false)) {
      sent = { headers: req.headers(), body: req.postDataBuffer() as Buffer };
      await route.abort();
      return;
    }
    await route.continue();
  });
  return {
    captured: () => {
      const s = sent as { headers: Record<string, string>; body: Buffer } | null;
      if (!s) return null;
      return {
        replay: (baseURL, path, cookie) =>
          fetch(`${baseURL}${path}`, {
            method: "POST",
            headers: {
              "next-action": s.headers["next-action"] as string,
              "content-type": s.headers["content-type"] as string,
              accept: "text/x-component",
              cookie,
            },
            body: new Uint8Array(s.body),
          }),
      };
    },
  };
}
