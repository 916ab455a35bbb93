import { expect, type Page, test } from "@playwright/test";
import { addAccount, captureSignIn, postSignIn, query } from "./sign-in-client";

// Someone guesses passwords. The server counts failures per account and per address, where the address is the
// TCP peer (or what a configured proxy says: e2e/serve.mjs trusts 127.0.0.9), and slows guessing down instead
// of locking people out. The e2e server's first wait is long (REGISTRY_SIGNIN_BACKOFF_SECONDS), so within a
// test every limit shows as a refusal and nothing depends on how fast the machine is.
test.use({ storageState: { cookies: [], origins: [] } });

/** Signs in through the real form in a browser context and says what the page answered. */
async function signInWithForm(page: Page, username: string, pw: string): Promise<string> {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(pw);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText(`${username} (viewer)`).or(page.getByRole("status").filter({ hasText: /\S/ }))).toBeVisible();
  return (await page.getByText(`${username} (viewer)`).count()) > 0 ? "signed-in" : ((await page.getByRole("status").textContent()) ?? "");
}

test("forged X-Real-IP, X-Forwarded-For and Forwarded headers buy no fresh attempts", async ({ page, baseURL }) => {
  const action = await captureSignIn(page);
  const outcomes: string[] = [];
  for (let i = 0; i < 30; i++) {
    const forged = `198.51.100.${i + 1}`;
    const answer = await postSignIn(baseURL as string, action, {
      username: `nobody-${i}`,
      password: "a guess",
      from: "127.0.0.50",
      headers: { "x-real-ip": forged, "x-forwarded-for": forged, forwarded: `for=${forged}`, "x-registry-client-address": forged },
    });
    outcomes.push(answer.outcome);
  }
  // 20 failures per address, then the address waits: the forged headers changed nothing.
  expect(outcomes.filter((o) => o === "wrong")).toHaveLength(20);
  expect(outcomes.slice(20)).toEqual(Array(10).fill("limited"));
});

test("40 parallel guesses at one account get 5 password checks; the owner's browser still signs in", async ({ browser, baseURL }) => {
  const PW = "kim-real-password";
  addAccount("kim", PW);
  // Kim has signed in from her browser before (and signed out): the browser is known for her account.
  const kims = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const kimPage = await kims.newPage();
  expect(await signInWithForm(kimPage, "kim", PW)).toBe("signed-in");
  await kimPage.getByRole("button", { name: "Sign out" }).click();
  await expect(kimPage).toHaveURL(/\/login/);

  // Someone fires 40 guesses at once from 40 addresses.
  const attacker = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const action = await captureSignIn(await attacker.newPage());
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      postSignIn(baseURL as string, action, { username: "kim", password: `guess ${i}`, from: `127.0.0.${100 + i}` }),
    ),
  );
  expect(answers.filter((a) => a.outcome === "wrong")).toHaveLength(5);
  expect(answers.filter((a) => a.outcome === "limited")).toHaveLength(35);

  // A browser that never signed in as kim is told to wait, with the right password too, and for how long.
  const stranger = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const answer = await signInWithForm(await stranger.newPage(), "kim", PW);
  expect(answer).toMatch(/Too many failed sign-ins for this account\. Try again in \d+ (seconds|minutes)\./);

  // Kim's own browser counts on its own: the guessing did not lock her out.
  expect(await signInWithForm(kimPage, "kim", PW)).toBe("signed-in");
  await Promise.all([kims.close(), attacker.close(), stranger.close()]);
});

test("failures at made-up names from many addresses lock nobody else out", async ({ page, browser, baseURL }) => {
  const PW = "lee-real-password";
  addAccount("lee", PW);
  const action = await captureSignIn(page);
  const outcomes: string[] = [];
  for (const from of ["127.0.0.60", "127.0.0.61", "127.0.0.62", "127.0.0.63"]) {
    for (let i = 0; i < 6; i++) {
      outcomes.push((await postSignIn(baseURL as string, action, { username: `ghost-${from}-${i}`, password: "x", from })).outcome);
    }
  }
  // 24 failures: every one checked (each address is far from its own limit), none shared with anyone.
  expect(outcomes).toEqual(Array(24).fill("wrong"));
  const fresh = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  expect(await signInWithForm(await fresh.newPage(), "lee", PW)).toBe("signed-in");
  await fresh.close();
});

test("the address is the TCP peer's, or the one a configured proxy forwards; nobody else's header counts", async ({ page, baseURL }) => {
  const PW = "max-real-password";
  addAccount("max", PW);
  const action = await captureSignIn(page);
  const lastSessionAddress = () =>
    query<{ address: string }>(
      `SELECT s.address FROM Session s JOIN User u ON u.id = s.userId WHERE u.username = 'max' ORDER BY s.createdAt DESC, s.rowid DESC LIMIT 1`,
    )[0]?.address;

  // Through the trusted proxy (127.0.0.9): the rightmost address it did not add itself is the client.
  const viaProxy = await postSignIn(baseURL as string, action, {
    username: "max",
    password: PW,
    from: "127.0.0.9",
    headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.7", "x-registry-client-address": "198.51.100.2" },
  });
  expect(viaProxy.outcome).toBe("signed-in");
  expect(lastSessionAddress()).toBe("203.0.113.7");

  // Straight from a client: every forwarded header is its own claim and is ignored.
  const direct = await postSignIn(baseURL as string, action, {
    username: "max",
    password: PW,
    from: "127.0.0.51",
    headers: { "x-forwarded-for": "203.0.113.7", "x-real-ip": "203.0.113.8", "x-registry-client-address": "203.0.113.9" },
  });
  expect(direct.outcome).toBe("signed-in");
  expect(lastSessionAddress()).toBe("127.0.0.51");
});
