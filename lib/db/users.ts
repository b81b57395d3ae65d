/** Users: agents and admins. The stored record has a password hash; `publicUser` never does. */
import { ulid } from "ulid";
import { HttpError } from "../fw/mod.ts";
import { hashPassword } from "../auth/password.ts";
import { keys } from "./keys.ts";
import { commit, withRetry } from "./kv.ts";

export type Role = "admin" | "agent";

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: Role;
  helpdesk_enabled: boolean;
  password_hash: string;
  created_at: string;
}

/** The user as every API answer shows it. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  helpdesk_enabled: boolean;
}

export function publicUser(u: UserRecord): PublicUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    helpdesk_enabled: u.role === "admin" ? true : u.helpdesk_enabled,
  };
}

/** Whether a user may use ticket routes (admins always can). */
export function hasHelpdesk(u: PublicUser | UserRecord): boolean {
  return u.role === "admin" || u.helpdesk_enabled;
}

export async function getUser(kv: Deno.Kv, id: string): Promise<UserRecord | null> {
  return (await kv.get<UserRecord>(keys.user(id))).value;
}

export async function getUserByEmail(kv: Deno.Kv, email: string): Promise<UserRecord | null> {
  const id = (await kv.get<string>(keys.userByEmail(email.trim().toLowerCase()))).value;
  return id ? await getUser(kv, id) : null;
}

export async function listUsers(kv: Deno.Kv): Promise<UserRecord[]> {
  const out: UserRecord[] = [];
  for await (const e of kv.list<UserRecord>({ prefix: keys.users() })) out.push(e.value);
  return out;
}

/** True when at least one user exists (first-admin bootstrap). */
export async function anyUser(kv: Deno.Kv): Promise<boolean> {
  for await (const _ of kv.list({ prefix: keys.users() }, { limit: 1 })) return true;
  return false;
}

export interface NewUser {
  email: string;
  name: string;
  password: string;
  role: Role;
  helpdesk_enabled: boolean;
}

/** Create a user; 409 when the email is taken. */
export async function createUser(kv: Deno.Kv, input: NewUser): Promise<UserRecord> {
  const email = input.email.trim().toLowerCase();
  const rec: UserRecord = {
    id: ulid(),
    email,
    name: input.name.trim(),
    role: input.role,
    helpdesk_enabled: input.helpdesk_enabled,
    password_hash: await hashPassword(input.password),
    created_at: new Date().toISOString(),
  };
  const res = await kv.atomic()
    .check({ key: keys.userByEmail(email), versionstamp: null })
    .set(keys.user(rec.id), rec)
    .set(keys.userByEmail(email), rec.id)
    .commit();
  if (!res.ok) throw new HttpError(409, `A user with email ${email} already exists`, "email_taken");
  return rec;
}

export interface UserPatch {
  email?: string;
  name?: string;
  password?: string;
  role?: Role;
  helpdesk_enabled?: boolean;
}

/** Update a user; 404 when missing, 409 when the new email is taken. */
export async function updateUser(kv: Deno.Kv, id: string, patch: UserPatch): Promise<UserRecord> {
  const hash = patch.password !== undefined ? await hashPassword(patch.password) : undefined;
  return await withRetry(async () => {
    const cur = await kv.get<UserRecord>(keys.user(id));
    if (!cur.value) throw new HttpError(404, `No user ${id}`, "not_found");
    const next: UserRecord = { ...cur.value };
    if (patch.name !== undefined) next.name = patch.name.trim();
    if (patch.role !== undefined) next.role = patch.role;
    if (patch.helpdesk_enabled !== undefined) next.helpdesk_enabled = patch.helpdesk_enabled;
    if (hash) next.password_hash = hash;
    const op = kv.atomic().check(cur);
    if (patch.email !== undefined) {
      const email = patch.email.trim().toLowerCase();
      if (email !== cur.value.email) {
        const taken = await kv.get<string>(keys.userByEmail(email));
        if (taken.value) {
          throw new HttpError(409, `A user with email ${email} already exists`, "email_taken");
        }
        op.check(taken).delete(keys.userByEmail(cur.value.email)).set(keys.userByEmail(email), id);
        next.email = email;
      }
    }
    op.set(keys.user(id), next);
    return await commit(op, next);
  });
}
