import { allEvents, recordEvent, toCsvExport, toJsonExport } from "@/lib/audit";
import { defineRoute } from "@/lib/server/action";
import { db } from "@/lib/server/session";

export const dynamic = "force-dynamic";

/** The whole audit chain as CSV or JSON, verifiable offline with `registry audit verify --file`. */
export const GET = defineRoute("audit.export", "audit.export", async (req, { user }) => {
  const format = new URL(req.url).searchParams.get("format") === "csv" ? "csv" : "json";
  const database = db();
  const events = await allEvents(database);
  // Exports are themselves worth a line in the log: who took a copy of the history, and when.
  await recordEvent(
    database,
    { name: user.username, role: user.roles.join(","), source: "web" },
    {
      action: "audit.exported",
      outcome: "succeeded",
      details: { format, events: events.length, headHash: events.at(-1)?.hash ?? null },
    },
  );
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const body = format === "csv" ? toCsvExport(events) : toJsonExport(events);
  return new Response(body, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="audit-${stamp}.${format}"`,
      "cache-control": "no-store",
    },
  });
});
