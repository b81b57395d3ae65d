/** Customers: the accounts tickets belong to once they leave the Inbox. */
import { ulid } from "ulid";
import { HttpError } from "../fw/mod.ts";
import { keys } from "./keys.ts";
import { countValue, getMany } from "./kv.ts";
import { oneLine } from "./tickets.ts";

export interface CustomerRecord {
  id: string;
  name: string;
  email: string | null;
  created_at: string;
}

export interface Customer {
  id: string;
  name: string;
  email: string | null;
  ticket_count: number;
}

export async function getCustomer(kv: Deno.Kv, id: string): Promise<CustomerRecord | null> {
  return (await kv.get<CustomerRecord>(keys.customer(id))).value;
}

export async function requireCustomer(kv: Deno.Kv, id: string): Promise<CustomerRecord> {
  const c = await getCustomer(kv, id);
  if (!c) throw new HttpError(404, `Customer ${id} does not exist`, "not_found");
  return c;
}

/** Create a customer; an email, when given, is unique (409). */
export async function createCustomer(
  kv: Deno.Kv,
  name: string,
  email: string | null,
): Promise<Customer> {
  const rec: CustomerRecord = {
    id: ulid(),
    name: oneLine(name),
    email: email ? email.trim().toLowerCase() : null,
    created_at: new Date().toISOString(),
  };
  const op = kv.atomic().set(keys.customer(rec.id), rec);
  if (rec.email) {
    op.check({ key: keys.customerByEmail(rec.email), versionstamp: null })
      .set(keys.customerByEmail(rec.email), rec.id);
  }
  const res = await op.commit();
  if (!res.ok) {
    throw new HttpError(409, `A customer with email ${rec.email} already exists`, "email_taken");
  }
  return { ...rec, ticket_count: 0 };
}

/** All customers with their ticket counts, by name. */
export async function listCustomers(kv: Deno.Kv): Promise<Customer[]> {
  const recs: CustomerRecord[] = [];
  for await (const e of kv.list<CustomerRecord>({ prefix: keys.customers() })) recs.push(e.value);
  const counts = await getMany(kv, recs.map((c) => keys.customerTicketCount(c.id)));
  return recs
    .map((c, i) => ({
      id: c.id,
      name: c.name,
      email: c.email,
      ticket_count: countValue(counts[i]),
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export async function publicCustomer(kv: Deno.Kv, c: CustomerRecord): Promise<Customer> {
  const n = await kv.get(keys.customerTicketCount(c.id));
  return { id: c.id, name: c.name, email: c.email, ticket_count: countValue(n) };
}

/** Ticket ids of a customer, newest first. */
export async function customerTicketIds(kv: Deno.Kv, customerId: string): Promise<number[]> {
  const ids: number[] = [];
  for await (
    const e of kv.list<number>({ prefix: keys.customerTickets(customerId) }, { reverse: true })
  ) {
    ids.push(e.key[2] as number);
  }
  return ids;
}
