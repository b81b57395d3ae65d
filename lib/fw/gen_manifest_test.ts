import assert from "node:assert/strict";
import { join } from "node:path";
import { generateManifestSource, writeManifest } from "./gen_manifest.ts";

const FIXTURE = new URL("../../tests/fixtures/fw_app/", import.meta.url);

Deno.test("[fw manifest] the fixture's committed routes.gen.ts is current", async () => {
  const committed = await Deno.readTextFile(new URL("routes.gen.ts", FIXTURE));
  assert.equal(committed, await generateManifestSource(FIXTURE));
});

Deno.test("[fw manifest] the generator is sorted, skips tests and (_x) folders, and is stable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fw_manifest_" });
  try {
    const files = [
      "routes/z.tsx",
      "routes/(app)/a.tsx",
      "routes/_app.tsx",
      "routes/a_test.ts",
      "routes/(_private)/x.tsx",
      "routes/api/[id].ts",
      "islands/b.tsx",
      "islands/a.tsx",
    ];
    for (const f of files) {
      await Deno.mkdir(join(dir, f, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, f), "export {};\n");
    }
    const src = await generateManifestSource(dir);
    const keys = [...src.matchAll(/^ {4}"([^"]+)": /gm)].map((m) => m[1]);
    assert.deepEqual(keys, [
      "./routes/(app)/a.tsx",
      "./routes/_app.tsx",
      "./routes/api/[id].ts",
      "./routes/z.tsx",
      "./islands/a.tsx",
      "./islands/b.tsx",
    ]);
    assert.match(src, /baseUrl: new URL\("\.\/", import\.meta\.url\)\.href/);
    assert.equal(await writeManifest(dir), true);
    assert.equal(await writeManifest(dir), false, "a second run changes nothing");
    assert.equal(await Deno.readTextFile(join(dir, "routes.gen.ts")), src);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
