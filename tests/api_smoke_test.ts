import { deepStrictEqual as assertEquals, strictEqual } from "node:assert/strict";
import { startTestApp } from "./support/app.ts";

Deno.test("[api] a signed-in admin creates a web ticket and sees it in the Inbox", async () => {
  const t = await startTestApp();
  try {
    const c = await t.client();
    const r = await c.json("POST", "/api/v1/tickets", { subject: "Printer on fire", body: "help" });
    strictEqual(r.status, 201);
    const inbox = await c.json("GET", "/api/v1/inbox");
    assertEquals(inbox.body.tickets.map((x: { id: number }) => x.id), [r.body.ticket.id]);
  } finally {
    await t.close();
  }
});
