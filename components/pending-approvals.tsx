import Link from "next/link";
import "./approvals.css";

/** The overview's notice of changes waiting for a second releaser (the two-person rule). */
export function PendingApprovals({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <section className="card pending-banner" aria-labelledby="pending-title">
      <span className="badge badge-warn">Two-person rule</span>
      <h2 id="pending-title" className="pending-title">
        {count === 1 ? "1 change is" : `${count} changes are`} waiting for a second releaser
      </h2>
      <Link href="/approvals">Review on Approvals →</Link>
    </section>
  );
}
