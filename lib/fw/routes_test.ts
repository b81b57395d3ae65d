import assert from "node:assert/strict";
import { buildRouteTable, notFoundFor } from "./routes.ts";
import type { Manifest, RouteModule } from "./types.ts";

const page = (): RouteModule => ({ default: () => null });
const mw = (name: string): RouteModule => ({ handler: () => new Response(name) });

function manifest(routes: Record<string, RouteModule>): Manifest {
  return { baseUrl: "file:///app/", routes, islands: {} };
}

Deno.test("[fw routes] file paths become Hono patterns and ctx.route strings", () => {
  const table = buildRouteTable(manifest({
    "./routes/index.tsx": page(),
    "./routes/about.tsx": page(),
    "./routes/tickets/index.tsx": page(),
    "./routes/tickets/[id].tsx": page(),
    "./routes/api/v1/tickets/[id]/messages.ts": { handler: () => new Response() },
    "./routes/docs/[...rest].tsx": page(),
  }));
  const byKey = Object.fromEntries(table.routes.map((r) => [r.key, r]));
  assert.equal(byKey["./routes/index.tsx"].route, "/");
  assert.equal(byKey["./routes/tickets/index.tsx"].route, "/tickets");
  assert.equal(byKey["./routes/tickets/[id].tsx"].route, "/tickets/:id");
  assert.deepEqual(byKey["./routes/api/v1/tickets/[id]/messages.ts"].patterns, [
    "/api/v1/tickets/:id/messages",
  ]);
  assert.equal(byKey["./routes/docs/[...rest].tsx"].route, "/docs/:rest*");
  assert.deepEqual(byKey["./routes/docs/[...rest].tsx"].patterns, ["/docs/:rest{.+}", "/docs"]);
});

Deno.test("[fw routes] static sorts before [param] before [...catchall]", () => {
  const table = buildRouteTable(manifest({
    "./routes/[...all].tsx": page(),
    "./routes/tickets/[id].tsx": page(),
    "./routes/tickets/new.tsx": page(),
    "./routes/tickets/[...rest].tsx": page(),
    "./routes/[slug].tsx": page(),
    "./routes/index.tsx": page(),
    "./routes/tickets/[id]/edit.tsx": page(),
  }));
  assert.deepEqual(table.routes.map((r) => r.route), [
    "/",
    "/tickets/new",
    "/tickets/:id",
    "/tickets/:id/edit",
    "/tickets/:rest*",
    "/:slug",
    "/:all*",
  ]);
});

Deno.test("[fw routes] groups vanish from URLs but scope layouts and middleware; (_x) is ignored", () => {
  const table = buildRouteTable(manifest({
    "./routes/_middleware.ts": mw("root"),
    "./routes/_layout.tsx": { default: () => null },
    "./routes/(app)/_middleware.ts": mw("app"),
    "./routes/(app)/_layout.tsx": { default: () => null },
    "./routes/(app)/inbox.tsx": page(),
    "./routes/(public)/login.tsx": page(),
    "./routes/(_islands)/widget.tsx": page(),
    "./routes/_helper.ts": {},
    "./routes/index_test.ts": {},
  }));
  assert.deepEqual(table.routes.map((r) => r.route).sort(), ["/inbox", "/login"]);
  const inbox = table.routes.find((r) => r.route === "/inbox")!;
  const login = table.routes.find((r) => r.route === "/login")!;
  assert.equal(inbox.middleware.length, 2);
  assert.deepEqual(inbox.layouts.map((l) => l.key), [
    "./routes/_layout.tsx",
    "./routes/(app)/_layout.tsx",
  ]);
  assert.equal(login.middleware.length, 1);
  assert.deepEqual(login.layouts.map((l) => l.key), ["./routes/_layout.tsx"]);
});

Deno.test("[fw routes] middleware arrays keep their order; skipInheritedLayouts drops outer layouts", () => {
  const a = () => new Response("a");
  const b = () => new Response("b");
  const table = buildRouteTable(manifest({
    "./routes/_middleware.ts": { handler: [a, b] },
    "./routes/_layout.tsx": { default: () => null },
    "./routes/print/_layout.tsx": {
      default: () => null,
      config: { skipInheritedLayouts: true },
    },
    "./routes/print/ticket.tsx": page(),
    "./routes/bare.tsx": { default: () => null, config: { skipInheritedLayouts: true } },
  }));
  const ticket = table.routes.find((r) => r.route === "/print/ticket")!;
  assert.deepEqual(ticket.middleware, [a, b]);
  assert.deepEqual(ticket.layouts.map((l) => l.key), ["./routes/print/_layout.tsx"]);
  assert.deepEqual(table.routes.find((r) => r.route === "/bare")!.layouts, []);
});

Deno.test("[fw routes] two files claiming one URL are refused", () => {
  assert.throws(
    () =>
      buildRouteTable(manifest({
        "./routes/(a)/x.tsx": page(),
        "./routes/(b)/x.tsx": page(),
      })),
    /both route \/x/,
  );
  assert.throws(
    () =>
      buildRouteTable(manifest({ "./routes/t/[id].tsx": page(), "./routes/t/[slug].tsx": page() })),
    /both route/,
  );
});

Deno.test("[fw routes] the deepest _404 whose prefix holds the path wins; _error is the nearest one up", () => {
  const table = buildRouteTable(manifest({
    "./routes/_404.tsx": page(),
    "./routes/(app)/admin/_404.tsx": page(),
    "./routes/_error.tsx": page(),
    "./routes/api/_error.ts": { handler: () => new Response() },
    "./routes/api/v1/ping.ts": { handler: () => new Response() },
    "./routes/about.tsx": page(),
  }));
  assert.equal(notFoundFor(table, "/admin/x/y")?.key, "./routes/(app)/admin/_404.tsx");
  assert.equal(notFoundFor(table, "/admin")?.key, "./routes/(app)/admin/_404.tsx");
  assert.equal(notFoundFor(table, "/administrator")?.key, "./routes/_404.tsx");
  assert.equal(
    table.routes.find((r) => r.route === "/api/v1/ping")?.error?.key,
    "./routes/api/_error.ts",
  );
  assert.equal(table.routes.find((r) => r.route === "/about")?.error?.key, "./routes/_error.tsx");
});
