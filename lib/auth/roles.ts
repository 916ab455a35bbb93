export const ROLES = ["viewer", "releaser", "auditor", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ["registry.read", "model.promote", "audit.read", "audit.export", "users.manage", "webhooks.manage"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Who may do what. Viewers (data scientists) read everything but the audit export; releasers also
 * promote and roll back; auditors read, export and verify the audit log but cannot promote; admins
 * manage accounts and webhooks. A person may hold several roles: permissions add up.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: ["registry.read", "audit.read"],
  releaser: ["registry.read", "audit.read", "model.promote"],
  auditor: ["registry.read", "audit.read", "audit.export"],
  admin: ["registry.read", "audit.read", "users.manage", "webhooks.manage"],
};

/** True when any of the roles grants the permission. Pure. */
export function can(roles: readonly string[], permission: Permission): boolean {
  // Own keys only: a role named "__proto__" or "constructor" must grant nothing.
  return roles.some((r) => Object.hasOwn(ROLE_PERMISSIONS, r) && ROLE_PERMISSIONS[r as Role].includes(permission));
}

/** Parses a stored or typed role list ("viewer, releaser"), dropping unknown names. Pure. */
export function parseRoles(text: string): Role[] {
  const wanted = text.split(/[\s,]+/).filter(Boolean);
  return ROLES.filter((r) => wanted.includes(r));
}

/** Throws on an unknown role name, for input from people. Pure. */
export function requireRoles(names: readonly string[]): Role[] {
  const unknown = names.filter((n) => !(ROLES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`Unknown role ${unknown.map((u) => `"${u}"`).join(", ")}; roles are ${ROLES.join(", ")}.`);
  if (names.length === 0) throw new Error(`At least one role is needed: ${ROLES.join(", ")}.`);
  return ROLES.filter((r) => names.includes(r));
}
