/** Bad input never gets a 500: each case answers a clear 4xx JSON error. */
import { ok, strictEqual } from "node:assert/strict";
import { startTestApp } from "./support/app.ts";

interface BadCase {
  method: string;
  path: string;
  body?: unknown;
  status: number;
  field?: string;
}

Deno.test("[api] bad and missing fields, wrong types, non-JSON bodies and unknown ids get 4xx", async () => {
  const t = await startTestApp({ start: false });
  try {
    const c = await t.client();
    const cust = await c.json("POST", "/api/v1/customers", {
      name: "ACME",
      email: "ops@acme.test",
    });
    const tk = await c.json("POST", "/api/v1/tickets", { subject: "s", body: "b" });
    const id = tk.body.ticket.id;
    const cases: BadCase[] = [
      { method: "POST", path: "/api/v1/auth/login", body: "{not json", status: 400 },
      { method: "POST", path: "/api/v1/auth/login", body: [], status: 400 },
      { method: "POST", path: "/api/v1/auth/login", body: {}, status: 422, field: "email" },
      {
        method: "POST",
        path: "/api/v1/auth/login",
        body: { email: 5, password: "x" },
        status: 422,
        field: "email",
      },
      {
        method: "POST",
        path: "/api/v1/admin/users",
        body: { email: "nope", name: "n", password: "password1" },
        status: 422,
        field: "email",
      },
      {
        method: "POST",
        path: "/api/v1/admin/users",
        body: { email: "a@b.test", name: "n", password: "short" },
        status: 422,
        field: "password",
      },
      {
        method: "POST",
        path: "/api/v1/admin/users",
        body: { email: "a@b.test", name: "n", password: "password1", role: "root" },
        status: 422,
        field: "role",
      },
      {
        method: "POST",
        path: "/api/v1/admin/users",
        body: { email: "a@b.test", name: "n", password: "password1", helpdesk_enabled: "yes" },
        status: 422,
        field: "helpdesk_enabled",
      },
      {
        method: "POST",
        path: "/api/v1/admin/users",
        body: { email: "admin@example.test", name: "n", password: "password1" },
        status: 409,
      },
      { method: "PATCH", path: "/api/v1/admin/users/nope", body: { name: "x" }, status: 404 },
      { method: "PATCH", path: "/api/v1/admin/users/nope", body: {}, status: 422 },
      { method: "POST", path: "/api/v1/customers", body: {}, status: 422, field: "name" },
      {
        method: "POST",
        path: "/api/v1/customers",
        body: { name: "   " },
        status: 422,
        field: "name",
      },
      {
        method: "POST",
        path: "/api/v1/customers",
        body: { name: "X", email: "bad address" },
        status: 422,
        field: "email",
      },
      {
        method: "POST",
        path: "/api/v1/customers",
        body: { name: "X", email: "ops@acme.test" },
        status: 409,
      },
      { method: "GET", path: "/api/v1/customers/unknown/tickets", status: 404 },
      { method: "GET", path: "/api/v1/inbox?limit=0", status: 422, field: "limit" },
      { method: "GET", path: "/api/v1/inbox?limit=201", status: 422, field: "limit" },
      { method: "GET", path: "/api/v1/inbox?limit=abc", status: 422, field: "limit" },
      { method: "GET", path: "/api/v1/inbox?cursor=garbage!!", status: 400 },
      {
        method: "POST",
        path: "/api/v1/tickets",
        body: { subject: "x" },
        status: 422,
        field: "body",
      },
      {
        method: "POST",
        path: "/api/v1/tickets",
        body: { subject: 1, body: "b" },
        status: 422,
        field: "subject",
      },
      {
        method: "POST",
        path: "/api/v1/tickets",
        body: { subject: "x", body: "b", customer_id: "nope" },
        status: 422,
        field: "customer_id",
      },
      { method: "GET", path: "/api/v1/tickets/999999", status: 404 },
      { method: "GET", path: "/api/v1/tickets/0", status: 404 },
      { method: "GET", path: "/api/v1/tickets/-1", status: 404 },
      { method: "GET", path: "/api/v1/tickets/1e3", status: 404 },
      { method: "GET", path: "/api/v1/tickets/99999999999999999999", status: 404 },
      {
        method: "PATCH",
        path: `/api/v1/tickets/${id}`,
        body: { status: "done" },
        status: 422,
        field: "status",
      },
      { method: "PATCH", path: `/api/v1/tickets/${id}`, body: {}, status: 422 },
      { method: "PATCH", path: `/api/v1/tickets/${id}`, body: { subject: "" }, status: 422 },
      { method: "PATCH", path: "/api/v1/tickets/424242", body: { status: "open" }, status: 404 },
      {
        method: "POST",
        path: `/api/v1/tickets/${id}/messages`,
        body: { body: "" },
        status: 422,
        field: "body",
      },
      {
        method: "POST",
        path: `/api/v1/tickets/${id}/messages`,
        body: { body: ["x"] },
        status: 422,
        field: "body",
      },
      { method: "POST", path: "/api/v1/tickets/424242/messages", body: { body: "x" }, status: 404 },
      {
        method: "POST",
        path: `/api/v1/tickets/${id}/customer`,
        body: {},
        status: 422,
        field: "customer_id",
      },
      {
        method: "POST",
        path: `/api/v1/tickets/${id}/customer`,
        body: { customer_id: "nope" },
        status: 422,
        field: "customer_id",
      },
      { method: "GET", path: "/api/v1/attachments/..%2f..%2fetc", status: 404 },
      { method: "DELETE", path: `/api/v1/tickets/${id}`, status: 405 },
      { method: "GET", path: "/api/v1/no-such-route", status: 404 },
    ];
    for (const k of cases) {
      const r = await c.json(k.method, k.path, k.body);
      const label = `${k.method} ${k.path} ${JSON.stringify(k.body)} -> ${r.status} ${
        JSON.stringify(r.body)
      }`;
      strictEqual(r.status, k.status, label);
      strictEqual(typeof r.body?.error, "string", label);
      strictEqual(typeof r.body?.code, "string", label);
      if (k.field) strictEqual(r.body.field, k.field, label);
    }
    // a non-JSON content type is refused with 415
    const r = await c.fetch("/api/v1/customers", {
      method: "POST",
      body: "name=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    strictEqual(r.status, 415);
    await r.body?.cancel();
    // a 405 names the allowed methods
    const m = await c.fetch(`/api/v1/tickets/${id}`, { method: "DELETE" });
    ok(m.headers.get("allow")?.includes("PATCH"), `allow: ${m.headers.get("allow")}`);
    await m.body?.cancel();
    // too large a body is 413
    const big = await c.json("POST", "/api/v1/customers", { name: "x".repeat(2_000_000) });
    strictEqual(big.status, 413);
    strictEqual(cust.status, 201);
  } finally {
    await t.close();
  }
});

Deno.test("[api] a cross-site POST is refused; same-origin and non-browser clients pass", async () => {
  const t = await startTestApp({ start: false });
  try {
    const c = await t.client();
    const cross = await c.fetch("/api/v1/customers", {
      method: "POST",
      body: JSON.stringify({ name: "X" }),
      headers: {
        "content-type": "application/json",
        origin: "https://evil.example",
        "sec-fetch-site": "cross-site",
      },
    });
    strictEqual(cross.status, 403);
    strictEqual((await cross.json()).code, "csrf");
    const same = await c.fetch("/api/v1/customers", {
      method: "POST",
      body: JSON.stringify({ name: "Y" }),
      headers: {
        "content-type": "application/json",
        origin: t.url,
        "sec-fetch-site": "same-origin",
      },
    });
    strictEqual(same.status, 201);
    await same.body?.cancel();
  } finally {
    await t.close();
  }
});

Deno.test("[api] login is throttled per account after repeated failures", async () => {
  const t = await startTestApp({ start: false });
  try {
    const a = t.anon();
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      codes.push(
        (await a.json("POST", "/api/v1/auth/login", {
          email: "admin@example.test",
          password: "wrong",
        })).status,
      );
    }
    strictEqual(codes.slice(0, 5).every((s) => s === 401), true, String(codes));
    strictEqual(codes[5], 429, String(codes));
    const r = await a.json("POST", "/api/v1/auth/login", {
      email: "admin@example.test",
      password: "admin-pass-123",
    });
    strictEqual(r.status, 429, "even the right password waits out the window");
    ok(Number(r.headers.get("retry-after")) > 0);
  } finally {
    await t.close();
  }
});

Deno.test("[api] answers carry secure headers and the session cookie is HttpOnly SameSite=Lax", async () => {
  const t = await startTestApp({ start: false });
  try {
    const r = await t.anon().json("POST", "/api/v1/auth/login", {
      email: "admin@example.test",
      password: "admin-pass-123",
    });
    const cookie = r.headers.get("set-cookie")!;
    ok(/HttpOnly/.test(cookie) && /SameSite=Lax/.test(cookie), cookie);
    ok(!JSON.stringify(r.body).includes("hash"), "no password hash in the user");
    ok(r.headers.get("content-security-policy")?.includes("default-src 'self'"));
    strictEqual(r.headers.get("x-content-type-options"), "nosniff");
  } finally {
    await t.close();
  }
});
