import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { bundle, measure, npmToBare, stopBundler } from "./bundler.ts";
import { buildSnapshot } from "./build.ts";
import { createApp, IMMUTABLE } from "./mod.ts";
import { manifest } from "../../tests/fixtures/fw_app/routes.gen.ts";
import { initialState } from "../../tests/fixtures/fw_app/state.ts";

const ROOT = fileURLToPath(new URL("../../tests/fixtures/fw_app/", import.meta.url));
const KEYS = Object.keys(manifest.islands).sort();

function scriptUrls(html: string): string[] {
  return [...html.matchAll(/"(\/_fw\/js\/[^"]+)"/g)].map((m) => m[1]);
}

Deno.test("[fw bundler] npm: specifiers map to bare package names", () => {
  assert.equal(npmToBare("npm:preact@11.2.0"), "preact");
  assert.equal(npmToBare("npm:preact@11.2.0/hooks"), "preact/hooks");
  assert.equal(npmToBare("npm:@preact/signals@2.11.4"), "@preact/signals");
  assert.equal(npmToBare("npm:/hono@4.13.19/"), "hono/");
  assert.equal(npmToBare("npm:devalue"), "devalue");
});

Deno.test("[fw bundler] bundles are content-hashed, deterministic and minified in prod", async () => {
  try {
    const dev = await bundle({ root: ROOT, islandKeys: KEYS, mode: "dev" });
    const prod = await bundle({ root: ROOT, islandKeys: KEYS, mode: "prod" });
    const again = await bundle({ root: ROOT, islandKeys: KEYS, mode: "prod" });
    const fewer = await bundle({ root: ROOT, islandKeys: KEYS.slice(0, 1), mode: "prod" });
    for (const name of prod.files.keys()) assert.match(name, /^[\w-]+-[A-Z0-9]{8}\.js$/);
    assert.match(prod.runtime, /^fw-runtime-/);
    assert.deepEqual(Object.keys(prod.islands), KEYS);
    assert.deepEqual([...again.files.keys()], [...prod.files.keys()]);
    assert.equal(again.buildId, prod.buildId);
    assert.notEqual(fewer.buildId, prod.buildId);
    assert.notEqual(dev.buildId, prod.buildId);
    const size = await measure(prod);
    const devSize = await measure(dev);
    assert.ok(size.raw < devSize.raw, "prod output is minified");
    assert.ok(size.gzip < size.raw);
    console.log(
      `[fw bundler] prod: ${prod.files.size} files, ${size.raw} B raw, ${size.gzip} B gzip, ` +
        `${prod.buildMs.toFixed(0)} ms`,
    );
  } finally {
    await stopBundler();
  }
});

Deno.test("[fw bundler] pages import hashed bundles served with an immutable cache header", async () => {
  const app = createApp(manifest, { initialState, build: { mode: "dev" } });
  try {
    const page = await app.fetch(new Request("http://localhost/"));
    const html = await page.text();
    const urls = scriptUrls(html);
    assert.equal(urls.length, 4, "runtime + the three islands used");
    const buildId = urls[0].split("/")[3];
    for (const url of urls) {
      const res = await app.fetch(new Request(`http://localhost${url}`));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), IMMUTABLE);
      assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
      const body = await res.text();
      if (url.includes("fw-runtime")) assert.match(body, /export\s*\{/);
      // chunk imports stay under the same build id
      for (const m of body.matchAll(/from\s*"\.\/(chunk-[A-Z0-9]+\.js)"/g)) {
        const chunk = await app.fetch(new Request(`http://localhost/_fw/js/${buildId}/${m[1]}`));
        assert.equal(chunk.status, 200);
        await chunk.body?.cancel();
      }
    }
    const stale = await app.fetch(
      new Request(`http://localhost/_fw/js/0000/${urls[0].split("/")[4]}`),
    );
    assert.equal(stale.status, 404);
    await stale.body?.cancel();
    const plain = await app.fetch(new Request("http://localhost/plain"));
    assert.ok(!(await plain.text()).includes("<script"), "a page without islands gets no script");
  } finally {
    await app.close();
  }
});

Deno.test("[fw bundler] prod mode serves the snapshot written by the build task", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fw_snapshot_" });
  try {
    const report = await buildSnapshot(ROOT, join(dir, "_fresh"));
    assert.ok(report.files >= 4 && report.gzipBytes > 0);
    console.log(
      `[fw bundler] build task: ${report.rawBytes} B raw, ${report.gzipBytes} B gzip, ${report.buildMs} ms`,
    );
    const app = createApp(manifest, {
      initialState,
      build: { mode: "prod", snapshotDir: join(dir, "_fresh") },
    });
    const html = await (await app.fetch(new Request("http://localhost/"))).text();
    const urls = scriptUrls(html);
    assert.ok(urls.every((u) => u.startsWith(`/_fw/js/${report.buildId}/`)));
    const js = await app.fetch(new Request(`http://localhost${urls[1]}`));
    assert.equal(js.status, 200);
    assert.equal(
      await js.text(),
      await Deno.readTextFile(join(dir, "_fresh", "js", urls[1].split("/").at(-1)!)),
    );
    await app.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
