import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { NavLinks } from "@/components/nav-links";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Model Registry", template: "%s · Model Registry" },
  description: "Versions, production and promotions of trained models",
};

export default function RootLayout({ children }: { children: ReactNode }) {
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
          <NavLinks />
        </header>
        <main id="main" className="page">
          {children}
        </main>
      </body>
    </html>
  );
}
