import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { FirstAdminForm } from "@/components/auth-forms";
import { db } from "@/lib/server/session";
import { createFirstAdminAction } from "../login/actions";

export const metadata: Metadata = { title: "First run" };
export const dynamic = "force-dynamic";

export default async function SetupPage() {
  // This page exists only until the first account does.
  if ((await db().user.count()) > 0) notFound();
  return (
    <section className="narrow">
      <h1>Welcome: create the first admin</h1>
      <p className="muted">
        No account exists yet. The admin creates accounts for viewers, releasers and auditors. From a shell,{" "}
        <code>npx registry users add NAME --role admin</code> does the same.
      </p>
      <FirstAdminForm action={createFirstAdminAction} />
    </section>
  );
}
