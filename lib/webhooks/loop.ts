import { type Actor, errorForLog, onEnqueued, openAudit } from "@/lib/audit";
import { sendAllDue } from "./sender";

/** How often the loop looks for due deliveries written by other processes (the CLI) or due again. */
export const POLL_MS = 5_000;

/**
 * Runs a sender for the life of the server: at start (so deliveries left by a previous run go out), every
 * POLL_MS, and as soon as this process writes a delivery. One pass at a time; a failing pass is logged
 * (no secret is in any error it can raise) and the next one runs as usual. Returns the function that stops it.
 */
export function startSenderLoop(root: string, source: Actor["source"] = "web"): () => void {
  let running = false;
  let again = false;
  let stopped = false;
  const pass = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await sendAllDue(openAudit(root), root, { source });
      } while (again && !stopped);
    } catch (e) {
      console.error(`webhooks: a sending pass failed: ${errorForLog(e, [])}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(pass, POLL_MS);
  timer.unref();
  const unsubscribe = onEnqueued(() => void pass());
  void pass();
  return () => {
    stopped = true;
    clearInterval(timer);
    unsubscribe();
  };
}
