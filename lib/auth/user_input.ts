/** Validation of the admin Users API bodies. */
import { field, fieldError } from "../http/validate.ts";
import type { NewUser, Role, UserPatch } from "../db/users.ts";

const ROLES: readonly Role[] = ["admin", "agent"];
export const MIN_PASSWORD = 8;

export function parseNewUser(b: Record<string, unknown>): NewUser {
  return {
    email: field.email(b, "email", true)!,
    name: field.string(b, "name", { required: true, max: 200 }),
    password: field.string(b, "password", {
      required: true,
      min: MIN_PASSWORD,
      max: 1024,
      trim: false,
    }),
    role: field.oneOf(b, "role", ROLES) ?? "agent",
    helpdesk_enabled: field.boolean(b, "helpdesk_enabled") ?? false,
  };
}

export function parseUserPatch(b: Record<string, unknown>): UserPatch {
  const patch: UserPatch = {
    email: field.email(b, "email"),
    name: field.string(b, "name", { max: 200 }),
    password: field.string(b, "password", { min: MIN_PASSWORD, max: 1024, trim: false }),
    role: field.oneOf(b, "role", ROLES),
    helpdesk_enabled: field.boolean(b, "helpdesk_enabled"),
  };
  if (patch.name === "") throw fieldError("name", "must not be empty");
  if (Object.values(patch).every((v) => v === undefined)) {
    throw fieldError("body", "give at least one of email, name, password, role, helpdesk_enabled");
  }
  return patch;
}
