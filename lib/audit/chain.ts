import { createHash } from "node:crypto";

/** The fields of an audit event that its hash covers, in a fixed order. */
export const HASHED_FIELDS = [
  "seq",
  "at",
  "actor",
  "role",
  "source",
  "action",
  "outcome",
  "correlationId",
  "fromStem",
  "fromSha256",
  "fromScore",
  "toStem",
  "toSha256",
  "toScore",
  "metric",
  "reason",
  "checks",
  "details",
] as const;

export type HashedEvent = {
  [K in (typeof HASHED_FIELDS)[number]]: K extends "seq"
    ? number
    : K extends "fromScore" | "toScore"
      ? number | null
      : K extends "fromStem" | "fromSha256" | "toStem" | "toSha256" | "metric" | "reason"
        ? string | null
        : string;
};
export type ChainedEvent = HashedEvent & { prevHash: string; hash: string };

export const GENESIS = "0".repeat(64);

/** sha256 over the previous hash and the event's fields as canonical JSON. Pure. */
export function eventHash(prevHash: string, e: HashedEvent): string {
  const body = JSON.stringify(HASHED_FIELDS.map((k) => e[k] ?? null));
  return createHash("sha256").update(`${prevHash}\n${body}`).digest("hex");
}

export interface ChainReport {
  ok: boolean;
  count: number;
  /** The first broken link, with what is wrong, when not ok. */
  problem: { seq: number | null; index: number; message: string } | null;
  headHash: string;
}

/**
 * Verifies a chain in order (from the start, or from a trusted `after` event): sequence numbers without gaps, each prevHash the hash before it,
 * each hash recomputed from the row. Detects an edited, deleted, inserted or reordered event. Pure.
 */
export function verifyChain(
  events: readonly ChainedEvent[],
  after: { seq: number; hash: string } = { seq: 0, hash: GENESIS },
): ChainReport {
  let prev = after.hash;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as ChainedEvent;
    const expected = after.seq + i + 1;
    const fail = (message: string): ChainReport => ({
      ok: false,
      count: events.length,
      problem: { seq: e.seq, index: i, message },
      headHash: prev,
    });
    if (e.seq !== expected) {
      return fail(
        e.seq > expected
          ? `Event ${expected} is missing: the chain jumps to #${e.seq} (a row was deleted).`
          : `Event #${e.seq} is out of order at position ${expected} (rows were reordered or duplicated).`,
      );
    }
    if (e.prevHash !== prev) return fail(`Event #${e.seq} does not follow the event before it (a row was deleted, inserted or reordered).`);
    if (eventHash(prev, e) !== e.hash)
      return fail(`Event #${e.seq} was edited after it was written: its content no longer matches its hash.`);
    prev = e.hash;
  }
  return { ok: true, count: events.length, problem: null, headHash: prev };
}
