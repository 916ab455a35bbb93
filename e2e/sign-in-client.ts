import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { expect, type Page } from "@playwright/test";
import Database from "better-sqlite3";
import { registryDir } from "./accounts";

/**
 * Raw sign-in requests as an attacker sends them: the real server action, captured once from the real form,
 * then posted over plain HTTP from any loopback source address (127.0.0.0/8 is all this machine's), so a
 * test can be many clients without trusting any header.
 */
export interface SignInAction {
  id: string;
  headers: Record<string, string>;
  template: string;
}

/** Fills the sign-in form on /login and captures the action request the browser sends (never delivered). */
export async function captureSignIn(page: Page): Promise<SignInAction> {
  let captured: SignInAction | null = null;
  await page.route("**/login**", async (route) => {
    const req = route.request();
    const id = req.headers()["next-action"];
    if (req.method() === "POST" && id) {
      captured = { id, headers: req.headers(), template: req.postDataBuffer()?.toString("latin1") ?? "" };
      await route.abort();
      return;
    }
    await route.continue();
  });
  await page.goto("/login");
  await page.getByLabel("Username").fill("capture-username");
  await page.getByLabel("Password").fill("capture-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => captured !== null).toBe(true);
  await page.unroute("**/login**");
  return captured as unknown as SignInAction;
}

export type Outcome = "signed-in" | "wrong" | "limited" | "other";

export interface Attempt {
  username: string;
  password: string;
  next?: string;
  /** The source address of the TCP connection (any 127.x.y.z). */
  from?: string;
  /** Extra request headers, e.g. forged X-Forwarded-For. */
  headers?: Record<string, string>;
  cookie?: string;
}

export interface Answer {
  status: number;
  outcome: Outcome;
  text: string;
  setCookies: string[];
  location: string | null;
}

/** Posts one sign-in to the server at `baseURL` and says what came of it. */
export function postSignIn(baseURL: string, action: SignInAction, attempt: Attempt): Promise<Answer> {
  const body = withFields(action.template, { username: attempt.username, password: attempt.password, next: attempt.next ?? "/" });
  const url = new URL(baseURL);
  const payload = Buffer.from(body, "latin1");
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: "/login",
        method: "POST",
        localAddress: attempt.from,
        headers: {
          "next-action": action.id,
          "content-type": action.headers["content-type"] as string,
          accept: "text/x-component",
          origin: url.origin,
          "content-length": payload.length,
          ...(attempt.cookie ? { cookie: attempt.cookie } : {}),
          ...attempt.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const setCookies = res.headers["set-cookie"] ?? [];
          const outcome: Outcome = setCookies.some((c) => c.startsWith("registry_session="))
            ? "signed-in"
            : text.includes("Wrong username or password")
              ? "wrong"
              : text.includes("Too many failed sign-ins")
                ? "limited"
                : "other";
          const location = (res.headers["x-action-redirect"] as string | undefined) ?? res.headers.location ?? null;
          resolve({ status: res.statusCode ?? 0, outcome, text, setCookies, location });
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** A captured multipart action body (latin1) with the named form fields' values replaced. */
export function withFields(template: string, fields: Record<string, string>): string {
  let body = template;
  for (const [field, value] of Object.entries(fields)) {
    const pattern = new RegExp(`(name="_1_${field}"\\r\\n\\r\\n)[^\\r]*(\\r\\n)`);
    expect(pattern.test(body), `the captured form has a ${field} field`).toBe(true);
    body = body.replace(pattern, (_m, a: string, b: string) => `${a}${Buffer.from(value, "utf8").toString("latin1")}${b}`);
  }
  return body;
}

/** Creates an account in the e2e registry with the real CLI, as an admin would from a shell. */
export function addAccount(name: string, password: string, role = "viewer"): void {
  const r = spawnSync(
    "node",
    [join(process.cwd(), "cli", "bin.mjs"), "users", "add", name, "--role", role, "--password-stdin", "--root", registryDir()],
    { input: password, encoding: "utf8", env: { ...process.env, DATABASE_URL: `file:${databaseFile()}` } },
  );
  expect(r.status, r.stderr).toBe(0);
}

export const databaseFile = () => join(process.env.E2E_DIR ?? "/tmp", "audit.db");

/** Reads the e2e database directly (read-only): the facts the server wrote, not what a page shows. */
export function query<T>(sql: string, ...params: unknown[]): T[] {
  return queryFile<T>(databaseFile(), sql, ...params);
}

export function queryFile<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
