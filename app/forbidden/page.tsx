import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "Not allowed" };

export default async function ForbiddenPage(props: { searchParams: Promise<{ need?: string }> }) {
  const { need } = await props.searchParams;
  return (
    <section className="narrow">
      <h1>Your role does not allow this page</h1>
      <p>
        {typeof need === "string" ? (
          <>
            It needs the <code>{need.slice(0, 40)}</code> permission.{" "}
          </>
        ) : null}
        Ask an admin for the role you need.
      </p>
      <p>
        <Link href="/">Back to the overview</Link>
      </p>
    </section>
  );
}
