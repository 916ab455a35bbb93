import { createWriteStream, readFileSync, renameSync, rmSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type Actor,
  exportHead,
  exportText,
  listEvents,
  openAudit,
  productionAtInstant,
  recordEvent,
  verifyExport,
  verifyStoredChain,
} from "@/lib/audit";
import { InvalidInputError, type ProductionAt, parseInstant, periodFacts, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";
import { renderProductionAt } from "./output";

/** `registry audit list|verify|export|production`: reading and proving the audit log. `actor` is the OS user, for the export's event. */
export async function auditCommand(args: string[], io: Out, actor = "unknown"): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "list":
      return list(rest, io);
    case "verify":
      return verify(rest, io);
    case "export":
      return exportLog(rest, io, { name: actor, role: "cli", source: "cli" });
    case "production":
      return production(rest, io);
    default:
      throw new InvalidInputError("Usage: registry audit list|verify|export|production (see `registry --help`).");
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

async function exportLog(args: string[], io: Out, actor: Actor): Promise<number> {
  const { values } = parse(args, { ...common, format: { type: "string" }, out: { type: "string" } });
  const format = values.format ?? "json";
  if (format !== "json" && format !== "csv") throw new InvalidInputError("--format must be json or csv.");
  const db = openAudit(resolveRoot(values.root));
  const head = await exportHead(db);
  // Streamed a page of events at a time; a file is written beside its name and renamed into place whole.
  const target = values.out ? `${values.out}.${process.pid}.tmp` : null;
  const sink = target ? createWriteStream(target) : process.stdout;
  let partial = false;
  try {
    await pipeline(Readable.from(exportText(db, format, head)), sink, { end: target !== null });
  } catch (e) {
    if (target) rmSync(target, { force: true });
    // The reader went away (`registry audit export | head`): not an error of ours, but it did read some.
    if (target || (e as NodeJS.ErrnoException).code !== "EPIPE") throw e;
    partial = true;
  }
  if (target && values.out) renameSync(target, values.out);
  // Who took a copy of the history, as the web's export records it; written once the copy was taken.
  await recordEvent(db, actor, {
    action: "audit.exported",
    outcome: "succeeded",
    details: { format, events: head.count, headHash: head.headHash, to: values.out ? "file" : "stdout", ...(partial ? { partial } : {}) },
  });
  if (values.out) io.print(`Wrote ${head.count} events to ${values.out}.`);
  return 0;
}

/** `registry audit production [--at T]`: what was production at an instant (default now), by the log. */
async function production(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { ...common, at: { type: "string" } });
  const instant = values.at === undefined ? new Date().toISOString() : parseInstant(values.at, { label: "--at" });
  const answer = await productionAtInstant(openAudit(resolveRoot(values.root)), instant);
  if (io.json) io.printJson(productionAtJson(instant, answer));
  else io.print(renderProductionAt(instant, answer));
  return 0;
}

function productionAtJson(instant: string, answer: ProductionAt) {
  if (answer.status === "no_record") return { at: instant, status: "no_record", production: null, uncertain: null };
  const p = answer.period;
  return {
    at: instant,
    status: p.start.how === "before_log" ? "before_log" : "recorded",
    production: periodFacts(p),
    uncertain: answer.uncertain ? periodFacts(answer.uncertain) : null,
  };
}
