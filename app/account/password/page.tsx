import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { ChangePasswordForm } from "@/components/change-password-form";
import { proxyConfig } from "@/lib/auth";
import { currentPasswordSession } from "@/lib/server/password-session";
import { signOutAction } from "../../login/actions";
import { changePasswordAction } from "./actions";

export const metadata: Metadata = { title: "Your password" };
export const dynamic = "force-dynamic";

export default async function PasswordPage() {
  if (proxyConfig()) {
    return (
      <section className="narrow">
        <h1>Your password</h1>
        <p>You sign in through your organisation's sign-in proxy: change your password there.</p>
      </section>
    );
  }
  const session = await currentPasswordSession();
  if (!session) redirect("/login?next=%2Faccount%2Fpassword");
  return (
    <section className="narrow">
      <h1>{session.mustChangePassword ? "Choose a new password" : "Change your password"}</h1>
      <p className="muted">
        {session.mustChangePassword
          ? `${session.username}, an admin reset your password. Choose your own before going on: the temporary one works only here.`
          : `Signed in as ${session.username}. Changing your password signs you out everywhere else.`}
      </p>
      <ChangePasswordForm action={changePasswordAction} />
      {session.mustChangePassword ? (
        <form action={signOutAction}>
          <button type="submit" className="btn btn-ghost">
            Sign out instead
          </button>
        </form>
      ) : null}
    </section>
  );
}
