import assert from "node:assert/strict";
import { type ComponentChildren, h } from "preact";
import { signal } from "@preact/signals";
import { renderToString } from "preact-render-to-string";
import { islandName, registerIslands } from "./islands.ts";
import { type ClientAssets, renderPage } from "./render.ts";
import { deserializeProps } from "./serialize.ts";

function Counter(props: { count: { value: number } }) {
  return h("button", null, `count ${props.count.value}`);
}
function Box(props: { title: string; children?: ComponentChildren }) {
  return h(
    "section",
    null,
    h("h2", null, props.title),
    props.children,
    h(Counter, { count: { value: 9 } }),
  );
}
function Unused() {
  return h("i", null, "never");
}

const islands = {
  "./islands/counter.tsx": { default: Counter, notAComponent: 42 },
  "./islands/forms/box.tsx": { Box, Unused },
};
const assets: ClientAssets = {
  runtimeUrl: "/_fw/js/B1/fw-runtime-AAAA.js",
  islandUrl: (key) => `/_fw/js/B1/${key.slice(10).replace(/\W/g, "_")}-HASH.js`,
};

function scriptOf(html: string): string {
  const m = /<script type="module"[^>]*>(.*?)<\/script>/s.exec(html);
  assert.ok(m, "page has the island script");
  return m[1];
}
function propsOf(script: string): unknown[] {
  const m = /,(\[.*\])\);$/.exec(script);
  assert.ok(m);
  return deserializeProps(m[1], (id) => ({ slot: id })) as unknown[];
}

Deno.test("[fw islands] names come from file and export", () => {
  assert.equal(islandName("./islands/counter.tsx", "default"), "counter");
  assert.equal(islandName("./islands/forms/box.tsx", "Box"), "forms/box.Box");
  const registry = registerIslands(islands);
  assert.deepEqual([...registry.values()].map((i) => i.name).sort(), [
    "counter",
    "forms/box.Box",
    "forms/box.Unused",
  ]);
});

Deno.test("[fw islands] top-level islands are marked, nested ones are not, JSX children become slots", async () => {
  const registry = registerIslands(islands);
  const count = signal(1);
  const html = await renderPage({
    page: () =>
      h(
        "main",
        null,
        h(Counter, { count }),
        h(Box, { title: "T" }, h("p", null, "server only"), h(Counter, { count })),
      ),
    layouts: [],
    props: { data: null, url: new URL("http://x/"), params: {}, state: {}, route: "/" },
    registry,
    assets: () => Promise.resolve(assets),
    nonce: 'n"1',
  });
  assert.ok(html.startsWith("<!DOCTYPE html><html><head>"));
  const markers = [...html.matchAll(/<x-island data-name="([^"]+)" data-props-index="(\d+)"/g)]
    .map((m) => `${m[1]}#${m[2]}`);
  // Box's own Counter is inside an island: not marked. The Counter in Box's slot is
  // top-level again and hydrates on its own.
  assert.deepEqual(markers, ["counter#0", "forms/box.Box#1", "counter#2"]);
  assert.match(
    html,
    /<x-slot data-slot="0"><p>server only<\/p><x-island data-name="counter"/,
  );
  assert.match(html, /<script type="module" nonce="n&#34;1">/);
  const script = scriptOf(html);
  const props = propsOf(script) as Record<string, unknown>[];
  assert.equal(props.length, 3);
  assert.equal(props[0].count, props[2].count, "the shared signal is one value in the payload");
  assert.deepEqual(props[1], { title: "T", children: { slot: 0 } });
  assert.ok(script.includes('"counter":$0["default"]'));
  assert.ok(script.includes('"forms/box.Box":$1["Box"]'));
  assert.ok(!script.includes("Unused"));
  assert.ok(html.indexOf("<script") > html.indexOf("</main>") && html.endsWith("</body></html>"));
});

Deno.test("[fw islands] only the islands used on a page are imported; none means no script", async () => {
  const registry = registerIslands(islands);
  const base = {
    layouts: [],
    props: { data: null, url: new URL("http://x/"), params: {}, state: {}, route: "/" },
    registry,
  };
  let built = 0;
  const lazyAssets = () => {
    built++;
    return Promise.resolve(assets);
  };
  const one = await renderPage({
    ...base,
    page: () => h(Counter, { count: signal(2) }),
    assets: lazyAssets,
  });
  const script = scriptOf(one);
  assert.equal([...script.matchAll(/import\*as/g)].length, 1);
  assert.ok(script.includes("counter_tsx-HASH.js") && !script.includes("box"));
  const none = await renderPage({
    ...base,
    page: () => h("p", null, "static"),
    assets: lazyAssets,
  });
  assert.ok(!none.includes("<script"));
  assert.equal(built, 1, "assets are only asked for when islands render");
});

Deno.test("[fw islands] rendering outside the framework leaves islands unmarked", () => {
  registerIslands(islands);
  assert.equal(renderToString(h(Counter, { count: { value: 3 } })), "<button>count 3</button>");
});

Deno.test("[fw islands] props that cannot be serialized name the island", async () => {
  const registry = registerIslands(islands);
  await assert.rejects(
    renderPage({
      page: () => h(Box, { title: "x", onPick: () => {} } as never),
      layouts: [],
      props: { data: null, url: new URL("http://x/"), params: {}, state: {}, route: "/" },
      registry,
      assets: () => Promise.resolve(assets),
    }),
    /island "forms\/box.Box"/,
  );
});
