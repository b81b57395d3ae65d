import assert from "node:assert/strict";
import { h } from "preact";
import { createDefine, type DataOf, isPageResponse, page } from "./mod.ts";

interface State {
  user: string;
}
const define = createDefine<State>();

Deno.test("[fw define] page() results are branded and carry status and headers", () => {
  const p = page({ a: 1 }, { status: 201, headers: { "x-a": "1" } });
  assert.ok(isPageResponse(p));
  assert.deepEqual(p.data, { a: 1 });
  assert.equal(p.status, 201);
  assert.ok(!isPageResponse({ data: 1 }));
  assert.ok(!isPageResponse(new Response()));
});

Deno.test("[fw define] define.page<typeof handler> infers the page data from the handler", () => {
  const handler = define.handlers({
    GET: (ctx) => page({ count: 2, who: ctx.state.user }),
    POST: () => new Response(null, { status: 204 }),
  });
  const Page = define.page<typeof handler>(({ data, state }) => {
    const n: number = data.count;
    const who: string = data.who;
    // @ts-expect-error: not in the handler's data
    data.missing;
    return h("p", null, `${n} ${who} ${state.user}`);
  });
  const fnHandler = define.handlers((ctx) => page(ctx.url.pathname));
  const path: DataOf<typeof fnHandler> = "/x";
  assert.equal(typeof Page, "function");
  assert.equal(path, "/x");
  const mw = define.middleware(async (ctx) => {
    ctx.state.user = "ann";
    return await ctx.next();
  });
  assert.equal(typeof mw, "function");
});
