"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/", label: "Overview" },
  { href: "/compare", label: "Compare" },
  { href: "/approvals", label: "Approvals" },
  { href: "/audit", label: "Audit" },
] as const;

const ADMIN_LINKS = [
  { href: "/admin/users", label: "Accounts" },
  { href: "/admin/tokens", label: "API tokens" },
  { href: "/admin/webhooks", label: "Webhooks" },
  { href: "/admin/settings", label: "Settings" },
] as const;

/** The top navigation; marks the current section for screen readers and the eye alike. */
export function NavLinks({ admin = false }: { admin?: boolean }) {
  const pathname = usePathname();
  const links = admin ? [...LINKS, ...ADMIN_LINKS] : LINKS;
  return (
    <nav aria-label="Main">
      <ul className="nav">
        {links.map((l) => {
          const current = l.href === "/" ? pathname === "/" || pathname.startsWith("/versions") : pathname.startsWith(l.href);
          return (
            <li key={l.href}>
              <Link href={l.href} aria-current={current ? "page" : undefined}>
                {l.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
