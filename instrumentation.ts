// Runs once when the Next.js server starts (`npm start`, `next start`, `next dev`): the webhook sender, so
// deliveries in the outbox, including those a previous run or the CLI left, go out without anyone asking.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const [{ startSenderLoop }, { resolveRoot }] = await Promise.all([import("@/lib/webhooks/loop"), import("@/lib/registry")]);
  startSenderLoop(resolveRoot(), "web");
}
