import { connect } from "node:net";
import { expect, test } from "@playwright/test";
import { startOwnServer } from "./own-server";

// `npm run demo` publishes its passwords in the README, so its server (scripts/demo-serve.sh, the demo's last
// step) must listen on this machine only unless told otherwise, and say which. 127.0.0.2 stands in for
// "another interface": a server bound to 127.0.0.1 refuses it, one bound to every interface accepts it.
const LISTENING = /Listening on http:\/\/(?:127\.0\.0\.1|localhost):(\d+)/;

function reachable(host: string, port: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test("the demo listens on 127.0.0.1 unless told otherwise, and says so", async ({ browser }) => {
  test.setTimeout(90_000);
  const server = await startOwnServer("demo-local", ["bash", "scripts/demo-serve.sh"], { PORT: "0" }, LISTENING);
  try {
    const port = new URL(server.url).port;
    // The server's lines come in separate chunks: wait for each rather than assume they arrived together.
    await expect.poll(() => server.output()).toContain("Listening on 127.0.0.1 only: other machines cannot connect.");
    await expect.poll(() => server.output()).toContain("HOST=0.0.0.0");
    expect(await reachable("127.0.0.1", port)).toBe(true);
    expect(await reachable("127.0.0.2", port)).toBe(false);
    const page = await browser.newPage({ baseURL: server.url });
    await page.goto("/");
    await expect(page.getByRole("heading", { name: /create the first admin/ })).toBeVisible();
    await page.close();
  } finally {
    await server.stop();
  }
});

test("HOST=0.0.0.0 opens the demo to every interface, with a warning", async () => {
  test.setTimeout(90_000);
  const server = await startOwnServer("demo-everywhere", ["bash", "scripts/demo-serve.sh"], { PORT: "0", HOST: "0.0.0.0" }, LISTENING);
  try {
    const port = new URL(server.url).port;
    await expect.poll(() => server.output()).toContain("WARNING: listening on 0.0.0.0");
    await expect.poll(() => server.output()).toContain("on every network interface");
    expect(await reachable("127.0.0.2", port)).toBe(true);
  } finally {
    await server.stop();
  }
});
