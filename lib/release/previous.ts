import type { AuditDb } from "@/lib/audit/db";
import { previousProduction } from "@/lib/audit/production-history";
import { InvalidInputError } from "@/lib/registry/errors";
import { scanForPlan } from "@/lib/registry/scan";

/**
 * "Roll back to previous production": the version live immediately before the current production was
 * promoted, from what the alias holds now and the audit log's line of promotions (see previousProduction).
 * Throws InvalidInputError when there is none, with the log's explanation and `hint` (what to do instead,
 * worded for the caller: the dialog or the CLI). Reads only.
 */
export async function previousTarget(
  root: string,
  db: AuditDb,
  hint = "",
): Promise<{ stem: string; sha256: string | null; explanation: string }> {
  const { production } = await scanForPlan(root);
  const answer = await previousProduction(db, { stem: production.stem, sha256: production.sha256 });
  const stem = answer.previous?.stem;
  if (!stem) throw new InvalidInputError(`There is no previous production to roll back to. ${answer.explanation}${hint}`);
  return { stem, sha256: answer.previous?.sha256 ?? null, explanation: answer.explanation };
}
