"use client";

import Link from "next/link";

/** Last-resort page when the registry itself cannot be read (a broken file never lands here: it is a problem). */
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section className="card not-found" role="alert">
      <h1>The registry could not be read</h1>
      <p>
        The server could not scan the registry folder. Check that REGISTRY_ROOT points at a folder holding
        <code> models/</code> and <code>metrics/</code>, and that the server may read it.
      </p>
      {error.digest && (
        <p className="muted">
          Reference for the server log: <code>{error.digest}</code>
        </p>
      )}
      <p className="card-actions">
        <button type="button" className="button button-primary" onClick={reset}>
          Try again
        </button>
        <Link href="/" className="button">
          Overview
        </Link>
      </p>
    </section>
  );
}
