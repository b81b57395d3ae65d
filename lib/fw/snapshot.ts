/**
 * The build snapshot `deno task build` writes (to `_fresh/`) and prod mode serves without
 * starting esbuild.
 * @module
 */
import { join } from "node:path";
import type { BuildOutput } from "./bundler.ts";

const VERSION = 1;

interface SnapshotFile {
  version: number;
  buildId: string;
  runtime: string;
  islands: Record<string, string>;
  files: string[];
}

/** Write a build to `dir` (`snapshot.json` + `js/<file>`), replacing what was there. */
export async function writeSnapshot(dir: string, out: BuildOutput): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.mkdir(join(dir, "js"), { recursive: true });
  for (const [name, bytes] of out.files) await Deno.writeFile(join(dir, "js", name), bytes);
  const meta: SnapshotFile = {
    version: VERSION,
    buildId: out.buildId,
    runtime: out.runtime,
    islands: out.islands,
    files: [...out.files.keys()].sort(),
  };
  await Deno.writeTextFile(join(dir, "snapshot.json"), JSON.stringify(meta, null, 2) + "\n");
}

/**
 * Read a snapshot; `null` when there is none or it does not cover `islandKeys`
 * (islands added since the last build), so the caller builds instead.
 */
export async function readSnapshot(dir: string, islandKeys: string[]): Promise<BuildOutput | null> {
  let meta: SnapshotFile;
  try {
    meta = JSON.parse(await Deno.readTextFile(join(dir, "snapshot.json")));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  if (meta.version !== VERSION || islandKeys.some((k) => !meta.islands[k])) return null;
  const files = new Map<string, Uint8Array>();
  for (const name of meta.files) files.set(name, await Deno.readFile(join(dir, "js", name)));
  return { buildId: meta.buildId, files, runtime: meta.runtime, islands: meta.islands, buildMs: 0 };
}
