import { statSync } from "node:fs";
import { join } from "node:path";
import { METRICS_DIR, MODELS_DIR } from "@/lib/registry";
import { registryRoot } from "@/lib/server/registry";
import { db } from "@/lib/server/session";

export const dynamic = "force-dynamic";

const NO_STORE = { "cache-control": "no-store" };

/**
 * For load balancers, so public: ok when the registry's folders can be read and the audit database
 * answers. It says ok or not ok and nothing else (no path, no version, no error text); why it is not ok
 * goes to the server's log.
 */
export async function GET(): Promise<Response> {
  try {
    const root = registryRoot();
    for (const dir of [MODELS_DIR, METRICS_DIR]) {
      if (!statSync(join(root, dir)).isDirectory()) throw new Error(`${dir} is not a folder`);
    }
    await db().$queryRaw`SELECT 1`;
    return Response.json({ ok: true }, { headers: NO_STORE });
  } catch (e) {
    console.error(`health check: not ok: ${(e as Error).message}`);
    return Response.json({ ok: false }, { status: 503, headers: NO_STORE });
  }
}
