import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/auth-forms";
import { currentPasswordSession } from "@/lib/server/password-session";
import { safeNextPath } from "@/lib/auth/redirect";
import { currentUser, db } from "@/lib/server/session";
import { signInAction } from "./actions";

export const metadata: Metadata = { title: "Sign in" };
export const dynamic = "force-dynamic";

export default async function LoginPage(props: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await props.searchParams;
  if (await currentUser()) redirect("/");
  // Signed in with a temporary password: choosing a new one is the only way on.
  if (await currentPasswordSession()) redirect("/account/password");
  if ((await db().user.count()) === 0) redirect("/setup");
  return (
    <section className="narrow">
      <h1>Sign in</h1>
      <p className="muted">The registry shows and changes production models: every change is recorded with your name.</p>
      <SignInForm action={signInAction} next={safeNextPath(next)} />
    </section>
  );
}
