import { hostname } from "node:os";
import {
  approveRequest,
  authenticate,
  closedRequests,
  type Identity,
  identityOfUser,
  openRequests,
  type Requester,
  type RequestView,
  rejectRequest,
  withdrawRequest,
} from "@/lib/approvals";
import type { Actor } from "@/lib/audit";
import { openAudit } from "@/lib/audit";
import { repairOnStart } from "@/lib/release";
import { InvalidInputError, resolveRoot } from "@/lib/registry";
import { APPROVAL_SETTING_KEYS, readSettings } from "@/lib/settings/settings";
import { common, type Out, parse } from "./args";

const USAGE =
  "Usage: registry requests list [--all] | approve ID --reason TEXT | reject ID --reason TEXT | withdraw ID [--reason TEXT], each decision with --user NAME --password-stdin";

/** `registry requests list|approve|reject|withdraw`: the two-person rule from a shell. */
export async function requestsCommand(args: string[], io: Out, osUser: string): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "list":
      return list(rest, io);
    case "approve":
    case "reject":
    case "withdraw":
      return decide(sub, rest, io, osUser);
    default:
      throw new InvalidInputError(`${USAGE}.`);
  }
}

async function list(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, { ...common, all: { type: "boolean" } });
  const db = openAudit(resolveRoot(values.root));
  const now = new Date();
  const [settings, open, closed] = await Promise.all([
    readSettings(db),
    openRequests(db, now, "cli"),
    values.all ? closedRequests(db, 50) : Promise.resolve(null),
  ]);
  if (io.json) {
    io.printJson({
      approvals: {
        mode: settings.approvals.value,
        source: settings.approvals.source,
        ttlHours: settings.approvalTtlHours.value,
        emergencyRollbackMinutes: settings.emergencyRollbackMinutes.value,
      },
      requests: open,
      ...(closed ? { closed } : {}),
    });
    return 0;
  }
  io.print(
    `Two-person rule: ${settings.approvals.value} (${settings.approvals.source}); requests expire after ${settings.approvalTtlHours.value} h; emergency rollback window ${settings.emergencyRollbackMinutes.value} min.`,
  );
  for (const key of APPROVAL_SETTING_KEYS) {
    const warning = settings[key].problem ?? settings[key].ignored;
    if (warning) io.print(`  ! ${warning}`);
  }
  io.print(open.length ? `${open.length} open request${open.length === 1 ? "" : "s"}:` : "No open requests.");
  for (const r of open) io.print(renderRequest(r, now));
  if (closed?.length) {
    io.print("\nRecently decided:");
    for (const r of closed) io.print(renderRequest(r, now));
  }
  return 0;
}

function renderRequest(r: RequestView, now: Date): string {
  const age = Math.max(0, Math.round((now.getTime() - Date.parse(r.createdAt)) / 60_000));
  const overrides = r.overrides.length ? ` overriding ${r.overrides.map((o) => `${o.check} ("${o.reason}")`).join(", ")}` : "";
  const lines = [
    `#${r.id} [${r.state}] ${r.kind} ${r.targetStem} (sha256 ${r.targetSha256.slice(0, 12)}…) replacing ${r.fromStem ?? "nothing"}${overrides}`,
    `    asked by ${r.requester.username} ${age} min ago (${r.source}), expires ${r.expiresAt}: ${r.reason}`,
  ];
  if (r.decider) lines.push(`    ${r.state} by ${r.decider.username} at ${r.decidedAt}: ${r.decisionReason ?? ""}`);
  if (r.outcome) lines.push(`    ${r.outcome}`);
  return lines.join("\n");
}

async function decide(kind: "approve" | "reject" | "withdraw", args: string[], io: Out, osUser: string): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...common, reason: { type: "string" }, user: { type: "string" }, "password-stdin": { type: "boolean" } },
    1,
  );
  const id = requestId(positionals[0]);
  if (kind !== "withdraw" && !values.reason?.trim())
    throw new InvalidInputError(`${kind} needs --reason TEXT: it goes into the audit log.`);
  const root = resolveRoot(values.root);
  const who = await accountFrom(root, values, io, osUser);
  if (!who) throw new InvalidInputError(`${kind} needs an account: --user NAME --password-stdin (the --actor name alone proves nobody).`);
  await repairOnStart(root, { name: who.username, role: who.roles.join(","), source: "cli" });
  const reason = values.reason ?? "";
  const { request, outcome } =
    kind === "approve"
      ? await approveRequest(root, id, who, reason)
      : kind === "reject"
        ? await rejectRequest(root, id, who, reason)
        : await withdrawRequest(root, id, who, values.reason ?? null);
  if (io.json) {
    io.printJson({
      requestId: request.id,
      state: request.state,
      kind: request.kind,
      from: request.fromStem,
      to: request.targetStem,
      [kind === "approve" ? "approved" : kind === "reject" ? "rejected" : "withdrawn"]: true,
      ...(outcome
        ? {
            promoted: request.kind === "promote" && outcome.status === "done",
            ...(request.kind === "rollback" ? { rolledBack: outcome.status === "done" } : {}),
            noop: outcome.status === "noop",
            auditCorrelationId: outcome.correlationId,
          }
        : {}),
    });
  } else if (outcome) {
    io.print(
      outcome.status === "noop"
        ? `Approved request #${request.id}: ${request.targetStem} was already in production, nothing changed.`
        : `Approved request #${request.id}: production is now ${request.targetStem} (was ${request.fromStem ?? "nothing"}).`,
    );
  } else {
    io.print(`Request #${request.id} is now ${request.state}.`);
  }
  return 0;
}

function requestId(text: string | undefined): number {
  if (!text || !/^\d{1,9}$/.test(text))
    throw new InvalidInputError(`A request id is a number (see \`registry requests list\`), got "${(text ?? "").slice(0, 40)}".`);
  return Number(text);
}

/**
 * The account named by --user, its password read from stdin and checked as sign-in checks it, or null
 * without --user. Never takes a password from a flag or the environment (they end up in shell history
 * and process listings).
 */
export async function accountFrom(
  root: string,
  values: { user?: string; "password-stdin"?: boolean },
  io: Out,
  osUser: string,
): Promise<Identity | null> {
  if (values.user === undefined) {
    if (values["password-stdin"]) throw new InvalidInputError("--password-stdin needs --user NAME.");
    return null;
  }
  if (!values["password-stdin"])
    throw new InvalidInputError("--user needs --password-stdin: the password is read from standard input, never from a flag.");
  const password = (await (io.stdin ?? readStdin)()).replace(/\r?\n$/, "");
  if (!password) throw new InvalidInputError("No password on standard input.");
  const db = openAudit(root);
  const user = await authenticate(db, values.user, password, `cli:${osUser}@${hostname()}`);
  return { ...(await identityOfUser(db, user, "cli")), osUser };
}

/** The requester of a CLI promotion or rollback: the verified account when given, else the bare --actor. */
export async function requesterFrom(
  root: string,
  values: { user?: string; "password-stdin"?: boolean },
  actor: Actor,
  io: Out,
  osUser: string,
): Promise<Requester> {
  const identity = await accountFrom(root, values, io, osUser);
  return identity
    ? { actor: { name: identity.username, role: identity.roles.join(","), source: "cli" }, identity, osUser }
    : { actor, identity: null, osUser };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
