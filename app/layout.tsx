import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { NavLinks } from "@/components/nav-links";
import { can, proxyConfig } from "@/lib/auth";
import { currentUser } from "@/lib/server/session";
import { signOutAction } from "./login/actions";
import "./globals.css";
import "./forms.css";
import "./small-screens.css";

export const metadata: Metadata = {
  title: { default: "Model Registry", template: "%s · Model Registry" },
  description: "Versions, production and promotions of trained models",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  return (
    <html lang="en">
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <header className="topbar">
          <Link href="/" className="brand">
            Model Registry
          </Link>
          {user ? <NavLinks admin={can(user.roles, "users.manage")} /> : null}
          {user ? (
            <form action={signOutAction} className="userbox">
              <span>
                {user.username} <span className="muted-dark">({user.roles.join(", ")})</span>
              </span>
              {proxyConfig() ? null : (
                <>
                  <Link href="/account/password" className="userbox-link">
                    Password
                  </Link>
                  <button type="submit">Sign out</button>
                </>
              )}
            </form>
          ) : null}
        </header>
        <main id="main" className="page">
          {children}
        </main>
      </body>
    </html>
  );
}
