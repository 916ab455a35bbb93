// Runs once when the Next.js server starts (`npm start`, `next start`, `next dev`): the webhook sender, so
// deliveries in the outbox, including those a previous run or the CLI left, go out without anyone asking;
// and the refusal summaries a stopped server left unwritten.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const [{ startSenderLoop }, { resolveRoot }] = await Promise.all([import("@/lib/webhooks/loop"), import("@/lib/registry")]);
  startSenderLoop(resolveRoot(), "web");
  // Refusal counts whose window closed while no server ran (a stop, a crash) reach the chain now, not at
  // the next refusal.
  const [{ openAudit }, { databaseExists }, { flushRefusals }] = await Promise.all([
    import("@/lib/audit"),
    import("@/lib/audit/db-file"),
    import("@/lib/audit/refusals"),
  ]);
  if (databaseExists(resolveRoot()))
    flushRefusals(openAudit(resolveRoot())).catch((e: unknown) => console.error("Refusal summaries at start-up:", (e as Error).message));
}
