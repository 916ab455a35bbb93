import type { Metadata } from "next";
import Link from "next/link";
import { PERMISSIONS, ROLE_PERMISSIONS, ROLES } from "@/lib/auth/roles";

export const metadata: Metadata = { title: "Not allowed" };

/** The roles that grant a permission, in words ("releaser", "viewer or releaser"); null for an unknown one. */
function rolesFor(need: unknown): string | null {
  if (typeof need !== "string" || !(PERMISSIONS as readonly string[]).includes(need)) return null;
  const roles = ROLES.filter((r) => (ROLE_PERMISSIONS[r] as readonly string[]).includes(need));
  return roles.length > 1 ? `${roles.slice(0, -1).join(", ")} or ${roles.at(-1)}` : (roles[0] ?? null);
}

export default async function ForbiddenPage(props: { searchParams: Promise<{ need?: string }> }) {
  const { need } = await props.searchParams;
  const roles = rolesFor(need);
  return (
    <section className="narrow">
      <h1>Your role does not allow this page</h1>
      <p>
        {roles ? (
          <>
            It needs the <strong>{roles}</strong> role.{" "}
          </>
        ) : null}
        Ask an admin to give you {roles ? "that role" : "the role you need"}.
      </p>
      <p>
        <Link href="/">Back to the overview</Link>
      </p>
    </section>
  );
}
