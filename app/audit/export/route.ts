import { exportHead, exportText, recordEvent } from "@/lib/audit";
import { flushRefusals } from "@/lib/audit/refusals";
import { defineRoute } from "@/lib/server/action";
import { db } from "@/lib/server/session";

export const dynamic = "force-dynamic";

/** The whole audit chain as CSV or JSON, verifiable offline with `registry audit verify --file`. */
export const GET = defineRoute("audit.export", "audit.export", async (req, { user }) => {
  const format = new URL(req.url).searchParams.get("format") === "csv" ? "csv" : "json";
  const database = db();
  // Refusals counted in minutes that have closed go into the chain before it is copied.
  await flushRefusals(database);
  const head = await exportHead(database);
  // Exports are themselves worth a line in the log: who took a copy of the history, and when.
  await recordEvent(
    database,
    { name: user.username, role: user.roles.join(","), source: "web" },
    {
      action: "audit.exported",
      outcome: "succeeded",
      details: { format, events: head.count, headHash: head.headHash },
    },
  );
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  // Streamed a page of events at a time, up to the head read above: flat memory at any log size.
  const chunks = exportText(database, format, head);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="audit-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
});
