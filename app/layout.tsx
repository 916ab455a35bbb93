import type { Metadata } from "next";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: "Model Registry",
  description: "Versions, production and promotions of trained models",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <a href="/" className="brand">
            Model Registry
          </a>
        </header>
        <main className="page">{children}</main>
      </body>
    </html>
  );
}
