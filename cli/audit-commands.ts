import { readFileSync, writeFileSync } from "node:fs";
import { allEvents, listEvents, openAudit, toCsvExport, toJsonExport, verifyExport, verifyStoredChain } from "@/lib/audit";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";

/** `registry audit list|verify|export`: reading and proving the audit log. */
export async function auditCommand(args: string[], io: Out): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "list":
      return list(rest, io);
    case "verify":
      return verify(rest, io);
    case "export":
      return exportLog(rest, io);
    default:
      throw new InvalidInputError("Usage: registry audit list|verify|export (see `registry --help`).");
  }
}

async function list(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, {
    ...common,
    action: { type: "string" },
    actor: { type: "string" },
    version: { type: "string" },
    limit: { type: "string" },
  });
  const limit = Number(values.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputError("--limit must be a positive whole number.");
  const db = openAudit(resolveRoot(values.root));
  const { events, total } = await listEvents(db, { action: values.action, actor: values.actor, version: values.version }, 1, limit);
  if (io.json) {
    io.printJson({ total, events });
    return 0;
  }
  for (const e of events) {
    io.print(
      `#${e.seq} ${e.at} ${e.actor} (${e.role}, ${e.source}) ${e.action} [${e.outcome}] ${e.fromStem ?? "—"} → ${e.toStem ?? "—"}${e.reason ? ` — ${e.reason}` : ""}`,
    );
  }
  io.print(`${events.length} of ${total} events shown, newest first.`);
  return 0;
}

async function verify(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { ...common, file: { type: "string" } });
  const report = values.file
    ? verifyExport(readFileSync(values.file, "utf8"))
    : await verifyStoredChain(openAudit(resolveRoot(values.root)));
  if (io.json) io.printJson(report);
  else if (report.ok) io.print(`Audit chain intact: ${report.count} events, head ${report.headHash.slice(0, 16)}…`);
  else io.print(`AUDIT CHAIN BROKEN: ${report.problem?.message}`);
  // A broken chain is a refusal to vouch for the log, like a failed check.
  return report.ok ? 0 : 3;
}

async function exportLog(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { ...common, format: { type: "string" }, out: { type: "string" } });
  const format = values.format ?? "json";
  if (format !== "json" && format !== "csv") throw new InvalidInputError("--format must be json or csv.");
  const events = await allEvents(openAudit(resolveRoot(values.root)));
  const text = format === "json" ? toJsonExport(events) : toCsvExport(events);
  if (values.out) {
    writeFileSync(values.out, text);
    io.print(`Wrote ${events.length} events to ${values.out}.`);
  } else process.stdout.write(text);
  return 0;
}
