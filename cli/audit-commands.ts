import { createWriteStream, readFileSync, renameSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type Actor,
  type ChainReport,
  compactDatabase,
  compactPostgres,
  eventsWithRejectedInput,
  exportHead,
  exportText,
  listEvents,
  openAudit,
  productionAtInstant,
  type RedactionOutcome,
  recordEvent,
  redactEvents,
  redactPostgresEvents,
  verifyExport,
  verifyStoredChain,
} from "@/lib/audit";
import { flushRefusals } from "@/lib/audit/refusals";
import { databaseTarget } from "@/lib/db/url";
import { InvalidInputError, type ProductionAt, parseInstant, periodFacts, resolveRoot } from "@/lib/registry";
import { common, type Out, parse } from "./args";
import { renderProductionAt } from "./output";

/**
 * `registry audit list|verify|export|production|redact`: reading and proving the audit log, and taking a
 * secret out of it. `actor` is the OS user, for the export's event.
 */
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
    case "redact":
      return redact(rest, io);
    default:
      throw new InvalidInputError("Usage: registry audit list|verify|export|production|redact (see `registry --help`).");
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
  // Refusals counted in a window that closed while no server ran reach the chain before anyone reads it.
  await flushRefusals(db);
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
  if (values.file) return report(verifyExport(readFileSync(values.file, "utf8")), [], io);
  const db = openAudit(resolveRoot(values.root));
  const chain = await verifyStoredChain(db);
  // An intact chain may still hold what the dashboard recorded of refused input before secrets were kept out
  // (a log of that age, or a copy of one moved to PostgreSQL by `registry db copy`).
  return report(chain, await eventsWithRejectedInput(db), io);
}

function report(r: ChainReport, rejectedInputs: number[], io: Out): number {
  if (io.json) io.printJson(rejectedInputs.length ? { ...r, rejectedInputs } : r);
  else {
    io.print(
      r.ok ? `Audit chain intact: ${r.count} events, head ${r.headHash.slice(0, 16)}…` : `AUDIT CHAIN BROKEN: ${r.problem?.message}`,
    );
    if (rejectedInputs.length) {
      io.print(
        `${rejectedInputs.length} refused-input event(s) (${rejectedInputs
          .slice(0, 5)
          .map((s) => `#${s}`)
          .join(", ")}${rejectedInputs.length > 5 ? ", …" : ""}) keep what was typed, which may include a password: ` +
          "take it out with `registry audit redact --rejected-inputs --reason TEXT`.",
      );
    }
  }
  // A broken chain is a refusal to vouch for the log, like a failed check.
  return r.ok ? 0 : 3;
}

async function exportLog(args: string[], io: Out, actor: Actor): Promise<number> {
  const { values } = parse(args, { ...common, format: { type: "string" }, out: { type: "string" } });
  const format = values.format ?? "json";
  if (format !== "json" && format !== "csv") throw new InvalidInputError("--format must be json or csv.");
  const db = openAudit(resolveRoot(values.root));
  await flushRefusals(db);
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

async function redact(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, {
    ...common,
    seq: { type: "string", multiple: true },
    field: { type: "string" },
    "rejected-inputs": { type: "boolean" },
    reason: { type: "string" },
    actor: { type: "string" },
    "dry-run": { type: "boolean" },
    compact: { type: "boolean" },
  });
  const root = resolveRoot(values.root);
  const target = databaseTarget(root);
  const db = openAudit(root);
  const where = target.provider === "sqlite" ? target.file : "the PostgreSQL audit table";
  if (values.compact) {
    if (values.seq || values["rejected-inputs"]) throw new InvalidInputError("--compact runs alone: it only rebuilds the database file.");
    const compacted = target.provider === "sqlite" ? compactDatabase(target.file) : await compactPostgres(db);
    if (io.json) io.printJson({ compacted });
    else io.print(compacted ? `Compacted ${where}.` : `${where} is in use: stop the dashboard and run this again.`);
    return compacted ? 0 : 1;
  }
  if (values["rejected-inputs"] && (values.seq || values.field)) {
    throw new InvalidInputError("Use either --rejected-inputs or --seq N --field FIELD, not both.");
  }
  const seqs = values["rejected-inputs"] ? await eventsWithRejectedInput(db) : (values.seq ?? []).map(eventNumber);
  const field = values["rejected-inputs"] ? "details.input" : values.field;
  if (!values["rejected-inputs"] && !field)
    throw new InvalidInputError("Say which field to redact: --field reason, details or details.KEY.");
  if (values["rejected-inputs"] && seqs.length === 0) {
    if (io.json) io.printJson({ dryRun: values["dry-run"] === true, redacted: [], event: null });
    else io.print("No event holds refused input: nothing to redact.");
    return 0;
  }
  const request = {
    seqs,
    field: field ?? "",
    reason: values.reason ?? "",
    actor: { name: values.actor?.trim() || osUser(), role: "cli", source: "cli" as const },
    dryRun: values["dry-run"] === true,
  };
  const outcome = target.provider === "sqlite" ? await redactEvents(target.file, request) : await redactPostgresEvents(db, request);
  if (io.json) io.printJson(outcome);
  else io.print(describeRedaction(outcome, target.provider === "postgresql"));
  return 0;
}

function eventNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) throw new InvalidInputError(`--seq ${text} is not an event number.`);
  return n;
}

function describeRedaction(o: RedactionOutcome, postgres: boolean): string {
  const events = o.redacted.map((r) => `#${r.seq}`).join(", ");
  const field = o.redacted[0]?.field ?? "";
  const short = (h: string) => `${h.slice(0, 16)}…`;
  const lines = [
    `${o.dryRun ? "[dry run] Would redact" : "Redacted"} ${field} of ${events} and ${o.dryRun ? "re-chain" : "re-chained"} ${o.rechained} events (#${o.anchor.seq + 1} to #${o.oldHead.seq}).`,
    `  head #${o.oldHead.seq}: ${short(o.oldHead.hash)} → ${short(o.newHead.hash)}${o.anchor.seq > 0 ? `; #1 to #${o.anchor.seq} unchanged` : ""}.`,
  ];
  if (o.dryRun) lines.push("Dry run: nothing was written. Run again without --dry-run to apply.");
  else {
    lines.push(
      `Recorded as #${o.event?.seq} audit.redacted. Exports made before this no longer match from #${o.anchor.seq + 1} on; that event says why.`,
    );
    lines.push(
      o.compacted
        ? postgres
          ? "The audit table was rewritten: the removed text is gone from it (backups, replicas and WAL archives made before are not)."
          : "The database file was compacted: the removed text is gone from it (copies and backups made before are not)."
        : "The database was busy, so the removed text may remain in its free pages: run `registry audit redact --compact` when it is idle.",
    );
  }
  return lines.join("\n");
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}
