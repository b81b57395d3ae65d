/**
 * Every route of API.md's "Auth and roles" and "Customers and tickets" sections, called by each
 * role: anonymous, agent without helpdesk access, agent, admin.
 */
import { strictEqual } from "node:assert/strict";
import { addAgent, type Client, startTestApp, type TestApp } from "./support/app.ts";

interface Setup {
  t: TestApp;
  roles: Record<"anonymous" | "no_helpdesk" | "agent" | "admin", Client>;
  ticketId: number;
  customerId: string;
  agentId: string;
  attachmentId: string | null;
}

async function setup(): Promise<Setup> {
  const t = await startTestApp({ start: false });
  const admin = await t.client();
  const agent = await addAgent(t, { email: "agent@example.test", name: "agent" });
  const noHelp = await addAgent(t, {
    email: "nohelp@example.test",
    name: "nohelp",
    helpdesk: false,
  });
  const ticket = await admin.json("POST", "/api/v1/tickets", { subject: "s", body: "b" });
  const customer = await admin.json("POST", "/api/v1/customers", { name: "ACME" });
  return {
    t,
    roles: {
      anonymous: t.anon(),
      no_helpdesk: await t.client(noHelp.email, noHelp.password),
      agent: await t.client(agent.email, agent.password),
      admin,
    },
    ticketId: ticket.body.ticket.id,
    customerId: customer.body.customer.id,
    agentId: agent.id,
    attachmentId: null,
  };
}

type Role = keyof Setup["roles"];
interface Case {
  name: string;
  call: (c: Client, s: Setup) => Promise<{ status: number }>;
  /** Expected status per role. */
  want: Record<Role, number>;
}

const HELPDESK = (ok: number) => ({ anonymous: 401, no_helpdesk: 403, agent: ok, admin: ok });
const ADMIN_ONLY = (ok: number) => ({ anonymous: 401, no_helpdesk: 403, agent: 403, admin: ok });
const ANY_USER = (ok: number) => ({ anonymous: 401, no_helpdesk: ok, agent: ok, admin: ok });

const CASES: Case[] = [
  {
    name: "GET /api/v1/auth/me",
    call: (c) => c.json("GET", "/api/v1/auth/me"),
    want: ANY_USER(200),
  },
  {
    name: "GET /api/v1/admin/users",
    call: (c) => c.json("GET", "/api/v1/admin/users"),
    want: ADMIN_ONLY(200),
  },
  {
    name: "POST /api/v1/admin/users",
    call: (c) =>
      c.json("POST", "/api/v1/admin/users", {
        email: `u${crypto.randomUUID().slice(0, 8)}@example.test`,
        name: "U",
        password: "password-123",
        role: "agent",
        helpdesk_enabled: true,
      }),
    want: ADMIN_ONLY(201),
  },
  {
    name: "PATCH /api/v1/admin/users/:id",
    call: (c, s) => c.json("PATCH", `/api/v1/admin/users/${s.agentId}`, { name: "Agent Smith" }),
    want: ADMIN_ONLY(200),
  },
  {
    name: "GET /api/v1/customers",
    call: (c) => c.json("GET", "/api/v1/customers"),
    want: HELPDESK(200),
  },
  {
    name: "POST /api/v1/customers",
    call: (c) => c.json("POST", "/api/v1/customers", { name: "Globex" }),
    want: HELPDESK(201),
  },
  {
    name: "GET /api/v1/customers/:id/tickets",
    call: (c, s) => c.json("GET", `/api/v1/customers/${s.customerId}/tickets`),
    want: HELPDESK(200),
  },
  { name: "GET /api/v1/inbox", call: (c) => c.json("GET", "/api/v1/inbox"), want: HELPDESK(200) },
  {
    name: "GET /api/v1/inbox/counts",
    call: (c) => c.json("GET", "/api/v1/inbox/counts"),
    want: HELPDESK(200),
  },
  {
    name: "POST /api/v1/tickets",
    call: (c) => c.json("POST", "/api/v1/tickets", { subject: "x", body: "y" }),
    want: HELPDESK(201),
  },
  {
    name: "GET /api/v1/tickets/:id",
    call: (c, s) => c.json("GET", `/api/v1/tickets/${s.ticketId}`),
    want: HELPDESK(200),
  },
  {
    name: "PATCH /api/v1/tickets/:id",
    call: (c, s) => c.json("PATCH", `/api/v1/tickets/${s.ticketId}`, { status: "pending" }),
    want: HELPDESK(200),
  },
  {
    name: "POST /api/v1/tickets/:id/messages",
    call: (c, s) => c.json("POST", `/api/v1/tickets/${s.ticketId}/messages`, { body: "hello" }),
    want: HELPDESK(201),
  },
  {
    name: "POST /api/v1/tickets/:id/customer",
    call: (c, s) =>
      c.json("POST", `/api/v1/tickets/${s.ticketId}/customer`, { customer_id: s.customerId }),
    want: HELPDESK(200),
  },
  {
    name: "GET /api/v1/attachments/:id (unknown id)",
    call: (c) => c.json("GET", "/api/v1/attachments/01ARZ3NDEKTSV4RRFFQ69G5FAV"),
    want: HELPDESK(404),
  },
  {
    name: "GET /api/v1/health",
    call: (c) => c.json("GET", "/api/v1/health"),
    want: { anonymous: 200, no_helpdesk: 200, agent: 200, admin: 200 },
  },
  {
    name: "POST /api/v1/auth/logout",
    call: (c) => c.json("POST", "/api/v1/auth/logout"),
    want: ANY_USER(204),
  },
];

Deno.test("[api] each role gets the status API.md fixes on every route", async () => {
  const s = await setup();
  try {
    for (const role of ["anonymous", "no_helpdesk", "agent", "admin"] as Role[]) {
      for (const c of CASES) {
        if (c.name.includes("logout")) continue; // last, below
        const r = await c.call(s.roles[role], s);
        strictEqual(r.status, c.want[role], `${role} ${c.name}: ${JSON.stringify(r)}`);
      }
    }
    const logout = CASES.find((c) => c.name.includes("logout"))!;
    for (const role of ["anonymous", "no_helpdesk", "agent", "admin"] as Role[]) {
      const r = await logout.call(s.roles[role], s);
      strictEqual(r.status, logout.want[role], `${role} logout`);
      if (role !== "anonymous") {
        strictEqual(
          (await s.roles[role].json("GET", "/api/v1/auth/me")).status,
          401,
          `${role} after logout`,
        );
      }
    }
  } finally {
    await s.t.close();
  }
});

Deno.test("[api] every error body is {error, code} JSON", async () => {
  const s = await setup();
  try {
    for (const role of ["anonymous", "no_helpdesk", "agent"] as Role[]) {
      const r = await s.roles[role].json("GET", "/api/v1/admin/users");
      strictEqual(typeof r.body.error, "string");
      strictEqual(typeof r.body.code, "string");
      strictEqual(r.headers.get("content-type")?.startsWith("application/json"), true);
    }
  } finally {
    await s.t.close();
  }
});
