import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_OFF, throwawayDatabase } from "@/lib/db/test-support/postgres";
import { DatabaseUnavailableError, LockTimeoutError } from "./errors";
import { withRegistryLock } from "./lock";
import { removeRegistry, tempRegistry } from "./test-support/fixture";

// One contract, every driver of the promotion lock: the file lock (SQLite, the default) and PostgreSQL's
// advisory lock (DATABASE_URL=postgresql://…).
const drivers: { name: string; skip: boolean; url: () => Promise<{ url: string; drop: () => Promise<void> }> }[] = [
  { name: "file lock", skip: false, url: async () => ({ url: "", drop: async () => {} }) },
  { name: "PostgreSQL advisory lock", skip: POSTGRES_OFF, url: () => throwawayDatabase() },
];

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`promotion lock: ${driver.name}`, () => {
    let root: string;
    let db: { url: string; drop: () => Promise<void> };
    beforeAll(async () => {
      root = tempRegistry();
      db = await driver.url();
      process.env.REGISTRY_DATABASE_URL = db.url;
    });
    afterAll(async () => {
      delete process.env.REGISTRY_DATABASE_URL;
      await db.drop();
      removeRegistry(root);
    });

    it("lets one holder in at a time", async () => {
      let inside = 0;
      let most = 0;
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          withRegistryLock(root, async () => {
            inside++;
            most = Math.max(most, inside);
            // Give the others every chance to get in while this one holds it.
            for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
            order.push(i);
            inside--;
          }),
        ),
      );
      expect(most).toBe(1);
      expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    });

    it("makes a second writer give up with lock_timeout while it is held, and frees it when the holder throws", async () => {
      let release: () => void = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      let entered: () => void = () => {};
      const inside = new Promise<void>((r) => {
        entered = r;
      });
      const holder = withRegistryLock(root, async () => {
        entered();
        await held;
        throw new Error("the holder failed");
      });
      await inside;
      await expect(withRegistryLock(root, async () => "never", { timeoutMs: 200 })).rejects.toBeInstanceOf(LockTimeoutError);
      release();
      await expect(holder).rejects.toThrow("the holder failed");
      expect(await withRegistryLock(root, async () => "free again", { timeoutMs: 5_000 })).toBe("free again");
    });
  });
}

describe.skipIf(POSTGRES_OFF)("promotion lock on a PostgreSQL server that is down", () => {
  it("refuses with database_unavailable before running anything, and names no password", async () => {
    const root = tempRegistry();
    process.env.REGISTRY_DATABASE_URL = "postgresql://postgres:s3cret-pw@127.0.0.1:1/registry";
    let ran = false;
    try {
      const attempt = withRegistryLock(root, async () => {
        ran = true;
      });
      await expect(attempt).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(attempt).rejects.not.toThrow(/s3cret-pw/);
      expect(ran).toBe(false);
    } finally {
      delete process.env.REGISTRY_DATABASE_URL;
      removeRegistry(root);
    }
  });
});
