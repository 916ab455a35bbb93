import { defineConfig } from "@playwright/test";

/**
 * Every journey runs against a real `next start` over a throwaway copy of the demo registry and a
 * throwaway SQLite file, both made fresh under E2E_DIR by e2e/serve.mjs before the server starts.
 */
const port = Number(process.env.E2E_PORT ?? 3107);
const e2eDir = process.env.E2E_DIR ?? `/tmp/model-registry-e2e-${port}`;
// Workers inherit this, so specs find the registry and database the server uses.
process.env.E2E_DIR = e2eDir;

export default defineConfig({
  testDir: "e2e",
  projects: [
    { name: "setup", testMatch: /auth\.setup\.ts/ },
    // Journeys run signed in as a viewer unless they ask for another role (test.use({ storageState })).
    { name: "chromium", testMatch: /.*\.spec\.ts/, dependencies: ["setup"], use: { storageState: `${e2eDir}/state-viewer.json` } },
  ],
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "off",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: {
    command: `node e2e/serve.mjs ${port}`,
    url: `http://127.0.0.1:${port}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      REGISTRY_ROOT: `${e2eDir}/registry`,
      DATABASE_URL: `file:${e2eDir}/audit.db`,
      NEXT_TELEMETRY_DISABLED: "1",
      REGISTRY_E2E: "1",
      // The load-and-predict check loads models with Debian's python3-sklearn (the PATH python3 may lack it).
      REGISTRY_LOAD_PYTHON: "/usr/bin/python3",
    },
  },
});
