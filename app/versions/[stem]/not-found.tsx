import Link from "next/link";

export default function VersionNotFound() {
  return (
    <section className="card not-found">
      <h1>Version not found</h1>
      <p>
        No version by that name is in the registry. Version names look like <code>candidate_logreg_20250305T101000Z</code>: a model type, an
        underscore and a UTC timestamp.
      </p>
      <p>
        If a training run should be here, check the <Link href="/#problems">problems panel</Link>: a file with a bad name or broken metrics
        is listed there with the reason.
      </p>
      <p>
        <Link href="/">Back to the overview</Link>
      </p>
    </section>
  );
}
