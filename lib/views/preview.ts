import type { Plan } from "@/lib/registry/plan";

/** What the release dialog shows before anything changes: made by app/actions.ts, drawn by components/release-dialog.tsx. */
export interface Preview {
  plan: Plan;
  /** Set when "previous production" was asked for: which version that is on the line of production, and why. */
  previous: { stem: string; explanation: string } | null;
  /** How confirming goes through under the two-person rule: applied, filed as a request, or an emergency rollback. */
  approval: "direct" | "request" | "emergency";
}
