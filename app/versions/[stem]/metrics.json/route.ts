import { InvalidInputError, readMetricsBytes, validateVersionName } from "@/lib/registry";
import { defineRoute } from "@/lib/server/action";
import { loadSnapshot } from "@/lib/server/registry";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ stem: string }> };

const NOT_FOUND = () => Response.json({ error: "not_found", message: "No such version, or it has no metrics file." }, { status: 404 });

/**
 * A version's metrics file as it is on disk, for what a page shows only the first rows of. Read
 * permission, checked inside the handler like every page; the file is found by the version's validated
 * name among the listed versions, never by a path the request supplies.
 */
export function GET(req: Request, context: Context): Promise<Response> {
  return defineRoute("registry.metrics_download", "registry.read", async () => {
    let stem: string;
    try {
      stem = validateVersionName((await context.params).stem);
    } catch (e) {
      if (e instanceof InvalidInputError) return NOT_FOUND();
      throw e;
    }
    const snapshot = await loadSnapshot();
    const version = snapshot.versions.find((v) => v.stem === stem);
    const bytes = version ? readMetricsBytes(snapshot.root, version) : null;
    if (!bytes) return NOT_FOUND();
    return new Response(new Uint8Array(bytes), {
      headers: {
        "content-type": "application/json; charset=utf-8",
        // The name is a validated stem: letters, digits, "_", "-", "." only.
        "content-disposition": `attachment; filename="${stem}.json"`,
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      },
    });
  })(req);
}
