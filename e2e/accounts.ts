import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, type Page } from "@playwright/test";

/** One account per role, created by e2e/serve.mjs in the throwaway database. */
export type E2ERole = "admin" | "releaser" | "viewer" | "auditor" | "releaser2";
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

export const PRODUCTION = "baseline_logreg_20250211T143000Z";
export const BEST = "candidate_logreg_20250305T101000Z";

/** Runs the real CLI against the e2e registry and database, as a CI pipeline would. */
export function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync("node", [join(process.cwd(), "cli", "bin.mjs"), ...args, "--root", registryDir()], {
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: `file:${join(process.env.E2E_DIR ?? "/tmp", "audit.db")}` },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function sha(relative: string): string {
  return createHash("sha256")
    .update(readFileSync(join(registryDir(), relative)))
    .digest("hex");
}

/** Puts the demo registry's original production pair back (as a hand `cp` would), for the next journey. */
export function resetProduction(): void {
  for (const [dir, ext] of [
    ["models", "joblib"],
    ["metrics", "json"],
  ] as const) {
    copyFileSync(join(registryDir(), dir, `${PRODUCTION}.${ext}`), join(registryDir(), dir, `production_latest.${ext}`));
  }
}

/** A real request the browser made to the apply server action, captured and never delivered. */
export interface CapturedAction {
  headers: Record<string, string>;
  body: Buffer;
  /** Sends the same action request again over plain HTTP, with another body or cookie if given. */
  replay(baseURL: string, opts?: { body?: Buffer; cookie?: string | null }): Promise<Response>;
}

/**
 * Opens "Promote best" as the signed-in page's user, fills a reason, confirms, and captures the server
 * action POST the browser sends (aborting it), so specs can replay it as an attacker would.
 */
export async function captureApplyRequest(page: Page, reason: string): Promise<CapturedAction> {
  let captured: { headers: Record<string, string>; body: Buffer } | null = null;
  await page.route("**/*", async (route) => {
    const req = route.request();
    if (req.method() === "POST" && req.headers()["next-action"] && (req.postDataBuffer()?.includes("expectedTargetSha256") ?? false)) {
      captured = { headers: req.headers(), body: req.postDataBuffer() as Buffer };
      await route.abort();
      return;
    }
    await route.continue();
  });
  await page.goto("/");
  await page.getByRole("button", { name: "Promote best" }).click();
  await page
    .getByRole("dialog")
    .getByLabel(/Reason for this change/)
    .fill(reason);
  await page.getByRole("dialog").getByRole("button", { name: "Confirm promotion" }).click();
  await expect.poll(() => captured !== null).toBe(true);
  await page.unroute("**/*");
  const sent = captured as unknown as { headers: Record<string, string>; body: Buffer };
  return {
    ...sent,
    // Node's own fetch: no cookie jar, nothing but the headers given here.
    replay: (baseURL, opts = {}) => {
      const cookie = opts.cookie === undefined ? sent.headers.cookie : opts.cookie;
      return fetch(`${baseURL}/`, {
        method: "POST",
        headers: {
          "next-action": sent.headers["next-action"] as string,
          "content-type": sent.headers["content-type"] as string,
          accept: "text/x-component",
          ...(cookie ? { cookie } : {}),
        },
        body: new Uint8Array(opts.body ?? sent.body),
      });
    },
  };
}
