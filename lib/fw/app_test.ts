import assert from "node:assert/strict";
import { h } from "preact";
import {
  createApp,
  HttpError,
  type Manifest,
  type Middleware,
  page,
  type RouteModule,
} from "./mod.ts";

interface S {
  trail: string[];
}

const BASE = new URL("../../tests/fixtures/fw_app/", import.meta.url).href;

function appOf(routes: Record<string, RouteModule>, middleware: Middleware<S>[] = []) {
  const manifest: Manifest = { baseUrl: BASE, routes, islands: {} };
  return createApp<S>(manifest, { initialState: () => ({ trail: [] }), middleware });
}

const get = (app: ReturnType<typeof appOf>, path: string, init?: RequestInit) =>
  app.fetch(new Request(`http://localhost${path}`, init));

/** Middleware that records its name before and after the rest of the chain. */
const trace = (name: string): Middleware<S> => async (ctx) => {
  ctx.state.trail.push(name);
  const res = await ctx.next();
  res.headers.append("x-trail", name);
  return res;
};

const layout = (name: string) => ({
  default: ({ Component }: { Component: () => unknown }) =>
    h("div", { class: name }, h(Component as () => null, null)),
});

Deno.test("[fw app] middleware runs global, then root to leaf; layouts nest inside _app", async () => {
  const app = appOf({
    "./routes/_app.tsx": {
      default: ({ Component }: { Component: () => null }) =>
        h("html", null, h("body", null, h(Component, null))),
    },
    "./routes/_middleware.ts": { handler: trace("root") },
    "./routes/_layout.tsx": layout("outer"),
    "./routes/(app)/_middleware.ts": { handler: [trace("app1"), trace("app2")] },
    "./routes/(app)/tickets/_layout.tsx": layout("inner"),
    "./routes/(app)/tickets/[id].tsx": {
      handler: (ctx: { params: { id: string }; state: S }) =>
        page({ id: ctx.params.id, trail: ctx.state.trail.join(",") }),
      default: ({ data }: { data: { id: string; trail: string } }) =>
        h("p", null, `${data.id} ${data.trail}`),
    },
  }, [trace("global")]);
  const res = await get(app, "/tickets/7");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(res.headers.get("x-trail"), "app2, app1, root, global");
  assert.equal(
    await res.text(),
    '<!DOCTYPE html><html><body><div class="outer"><div class="inner">' +
      "<p>7 global,root,app1,app2</p></div></div></body></html>",
  );
  await app.close();
});

Deno.test("[fw app] static beats [param] beats [...catchall]; catch-all also answers its folder", async () => {
  const show = (name: string) => ({
    handler: (ctx: { params: Record<string, string>; route: string }) =>
      Response.json({ name, params: ctx.params, route: ctx.route }),
  });
  const app = appOf({
    "./routes/docs/new.ts": show("new"),
    "./routes/docs/[id].ts": show("id"),
    "./routes/docs/[...rest].ts": show("rest"),
  });
  assert.deepEqual(await (await get(app, "/docs/new")).json(), {
    name: "new",
    params: {},
    route: "/docs/new",
  });
  assert.deepEqual(await (await get(app, "/docs/a%20b")).json(), {
    name: "id",
    params: { id: "a b" },
    route: "/docs/:id",
  });
  assert.deepEqual((await (await get(app, "/docs/a/b/c")).json()).params, { rest: "a/b/c" });
  assert.deepEqual((await (await get(app, "/docs")).json()).params, { rest: "" });
  await app.close();
});

Deno.test("[fw app] 405 lists Allow; HEAD falls back to GET; a page without handler renders for GET", async () => {
  const app = appOf({
    "./routes/api/items.ts": {
      handler: { GET: () => Response.json([1]), POST: () => new Response(null, { status: 201 }) },
    },
    "./routes/about.tsx": { default: () => h("p", null, "about") },
  });
  const del = await get(app, "/api/items", { method: "DELETE" });
  assert.equal(del.status, 405);
  assert.equal(del.headers.get("allow"), "GET, HEAD, POST");
  await del.body?.cancel();
  const head = await get(app, "/api/items", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "application/json");
  assert.equal(await head.text(), "");
  const about = await get(app, "/about");
  assert.match(await about.text(), /^<!DOCTYPE html><html>.*<p>about<\/p>/);
  const post = await get(app, "/about", { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
  await app.close();
});

Deno.test("[fw app] unmatched paths render the nearest _404 through its middleware", async () => {
  const app = appOf({
    "./routes/_middleware.ts": { handler: trace("root") },
    "./routes/_404.tsx": {
      default: ({ url, state }: { url: URL; state: S }) =>
        h("p", null, `missing ${url.pathname} after ${state.trail.join(",")}`),
    },
    "./routes/admin/_404.tsx": { default: () => h("p", null, "admin missing") },
  });
  const res = await get(app, "/nowhere");
  assert.equal(res.status, 404);
  assert.match(await res.text(), /<p>missing \/nowhere after root<\/p>/);
  const admin = await get(app, "/admin/nope");
  assert.equal(admin.status, 404);
  assert.match(await admin.text(), /admin missing/);
  await app.close();
});

Deno.test("[fw app] an _error handler maps HttpError to JSON; its page renders otherwise", async () => {
  const app = appOf({
    "./routes/api/_error.ts": {
      handler: (ctx: { error?: unknown }) => {
        const e = ctx.error instanceof HttpError ? ctx.error : new HttpError(500, "Internal error");
        return Response.json({ error: e.message, code: e.code }, { status: e.status });
      },
    },
    "./routes/api/_404.ts": {
      handler: () => {
        throw new HttpError(404, "No such endpoint");
      },
    },
    "./routes/api/tickets/[id].ts": {
      handler: (ctx: { params: { id: string } }) => {
        if (ctx.params.id === "boom") throw new Error("secret detail");
        throw new HttpError(409, "Ticket changed", "stale_ticket");
      },
    },
    "./routes/_error.tsx": {
      default: ({ error }: { error?: unknown }) =>
        h("h1", null, error instanceof HttpError ? error.message : "Something broke"),
    },
    "./routes/_404.tsx": { default: () => h("p", null, "page missing") },
    "./routes/t/[id].tsx": {
      handler: () => {
        throw new HttpError(403, "Not yours");
      },
      default: () => null,
    },
    "./routes/crash.tsx": {
      handler: () => {
        throw new Error("kaput");
      },
    },
    "./routes/gone.tsx": {
      handler: () => {
        throw new HttpError(404, "Gone");
      },
    },
  });
  const conflict = await get(app, "/api/tickets/1", { method: "PATCH" });
  assert.equal(conflict.status, 409);
  assert.deepEqual(await conflict.json(), { error: "Ticket changed", code: "stale_ticket" });
  const errors: unknown[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => errors.push(a);
  try {
    const boom = await get(app, "/api/tickets/boom");
    assert.equal(boom.status, 500);
    assert.deepEqual(await boom.json(), { error: "Internal error", code: "internal" });
  } finally {
    console.error = orig;
  }
  assert.equal(errors.length, 0, "an _error handler owns logging");
  const missing = await get(app, "/api/v1/unknown");
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "No such endpoint", code: "not_found" });
  const crashOnPage = await (async () => {
    console.error = (...a: unknown[]) => errors.push(a);
    try {
      return await get(app, "/crash");
    } finally {
      console.error = orig;
    }
  })();
  assert.equal(crashOnPage.status, 500);
  assert.match(await crashOnPage.text(), /<h1>Something broke<\/h1>/);
  assert.equal(errors.length, 1, "without an _error handler the framework logs the 500");
  const forbidden = await get(app, "/t/1");
  assert.equal(forbidden.status, 403);
  assert.match(await forbidden.text(), /<h1>Not yours<\/h1>/);
  const gone = await get(app, "/gone");
  assert.equal(gone.status, 404);
  assert.match(await gone.text(), /page missing/);
  await app.close();
});

Deno.test("[fw app] HttpError codes derive from status", () => {
  assert.equal(new HttpError(400, "x").code, "bad_request");
  assert.equal(new HttpError(413, "x").code, "payload_too_large");
  assert.equal(new HttpError(422, "x").code, "unprocessable");
  assert.equal(new HttpError(429, "x").code, "too_many_requests");
  assert.equal(new HttpError(503, "x").code, "internal");
  assert.equal(new HttpError(401, "x", "session_expired").code, "session_expired");
});

Deno.test("[fw app] redirect answers 302 and cannot be turned into a protocol-relative URL", async () => {
  const app = appOf({
    "./routes/go.ts": {
      handler: (ctx: { redirect: (p: string, s?: number) => Response; url: URL }) =>
        ctx.redirect(
          ctx.url.searchParams.get("to") ?? "/",
          ctx.url.searchParams.has("see") ? 303 : undefined,
        ),
    },
  });
  const a = await get(app, "/go?to=/inbox");
  assert.equal(a.status, 302);
  assert.equal(a.headers.get("location"), "/inbox");
  const b = await get(app, "/go?to=//evil.example/x&see");
  assert.equal(b.status, 303);
  assert.equal(b.headers.get("location"), "/evil.example/x");
  await app.close();
});

Deno.test("[fw app] static files carry an ETag and answer 304 when it matches", async () => {
  const manifest: Manifest = { baseUrl: BASE, routes: {}, islands: {} };
  const app = createApp(manifest, { initialState: () => ({}), staticDir: "static" });
  const res = await get(app as never, "/styles.css");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/css; charset=utf-8");
  assert.match(res.headers.get("cache-control") ?? "", /must-revalidate/);
  const etag = res.headers.get("etag")!;
  assert.match(await res.text(), /font-family/);
  const again = await get(app as never, "/styles.css", { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  const escape = await get(app as never, "/..%2Fstate.ts");
  assert.equal(escape.status, 404);
  await escape.body?.cancel();
  await app.close();
});

Deno.test("[fw app] a WebSocket upgrade response passes through middleware untouched", async () => {
  let upgradeResponse: Response | null = null;
  const app = appOf({
    "./routes/_middleware.ts": {
      handler: async (ctx: { next: () => Promise<Response> }) => {
        const res = await ctx.next();
        if (res.status !== 101) res.headers.set("x-mw", "1");
        return res;
      },
    },
    "./routes/ws.ts": {
      handler: (ctx: { req: Request }) => {
        const { socket, response } = Deno.upgradeWebSocket(ctx.req);
        socket.onmessage = (e) => socket.send(`echo ${e.data}`);
        upgradeResponse = response;
        return response;
      },
    },
  });
  let served: Response | null = null;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req, info) => {
      served = await app.fetch(req, info);
      return served;
    },
  );
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/ws`);
  const reply = await new Promise<string>((resolve, reject) => {
    ws.onopen = () => ws.send("hi");
    ws.onmessage = (e) => resolve(String(e.data));
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  assert.equal(reply, "echo hi");
  assert.ok(served !== null && served === upgradeResponse, "the 101 Response kept its identity");
  const closed = new Promise((r) => (ws.onclose = r));
  ws.close();
  await closed;
  await server.shutdown();
  await app.close();
});
