/**
 * `deno task build`: bundles the runtime and every island (minified) and writes the snapshot
 * to `_fresh/`, which `createApp(..., { build: { mode: "prod" } })` serves without esbuild.
 *
 * Usage: `deno run -A lib/fw/build.ts [root] [--out dir]`
 * @module
 */
import { join, relative, resolve } from "node:path";
import { bundle, measure, stopBundler } from "./bundler.ts";
import { listModules } from "./gen_manifest.ts";
import { writeSnapshot } from "./snapshot.ts";

/** Figures of one build. */
export interface BuildReport {
  buildId: string;
  files: number;
  rawBytes: number;
  gzipBytes: number;
  buildMs: number;
  outDir: string;
}

/** Build every island under `root/islands` and write the snapshot to `outDir`. */
export async function buildSnapshot(
  root: string,
  outDir = join(root, "_fresh"),
): Promise<BuildReport> {
  const islandKeys = (await listModules(join(root, "islands"), "./islands/")).sort();
  try {
    const out = await bundle({ root, islandKeys, mode: "prod" });
    await writeSnapshot(outDir, out);
    const size = await measure(out);
    return {
      buildId: out.buildId,
      files: out.files.size,
      rawBytes: size.raw,
      gzipBytes: size.gzip,
      buildMs: Math.round(out.buildMs),
      outDir,
    };
  } finally {
    await stopBundler();
  }
}

if (import.meta.main) {
  const outAt = Deno.args.indexOf("--out");
  const outArg = outAt >= 0 ? Deno.args[outAt + 1] : undefined;
  const root = resolve(Deno.args.find((a, i) => !a.startsWith("--") && i !== outAt + 1) ?? ".");
  const report = await buildSnapshot(root, outArg ? resolve(outArg) : undefined);
  console.log(
    `built ${report.files} files into ${relative(Deno.cwd(), report.outDir) || "."}: ` +
      `${(report.rawBytes / 1024).toFixed(1)} KiB raw, ${
        (report.gzipBytes / 1024).toFixed(1)
      } KiB gzip, ` +
      `esbuild ${report.buildMs} ms, build id ${report.buildId}`,
  );
}
