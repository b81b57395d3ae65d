/**
 * Browser bundles for islands with esbuild (npm, native binary): ESM, code splitting,
 * content-hashed names, kept in memory. esbuild does not read deno.json, so a small plugin
 * maps `npm:` specifiers and import-map aliases to packages in node_modules.
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Plugin } from "esbuild";

/** A finished build: file name -> bytes, plus which file is which entry. */
export interface BuildOutput {
  /** Hash of every output file; part of the URL so a new build never reuses old URLs. */
  buildId: string;
  files: Map<string, Uint8Array>;
  /** File name of the client runtime entry. */
  runtime: string;
  /** Manifest island key -> file name. */
  islands: Record<string, string>;
  /** Wall time of the esbuild call, ms (0 when loaded from a snapshot). */
  buildMs: number;
}

/** Inputs of a build. */
export interface BundleOptions {
  /** Project root directory (where `islands/` lives). */
  root: string;
  /** Manifest keys of island modules, e.g. `./islands/counter.tsx`. */
  islandKeys: string[];
  mode: "dev" | "prod";
}

const RUNTIME_ENTRY = new URL("./runtime/client.ts", import.meta.url);

// deno-lint-ignore no-explicit-any
let esbuildModule: any = null;

/** Walk up from `dir` to the first folder holding `name`. */
export function findUp(dir: string, name: string): string | null {
  for (let d = resolve(dir);; d = dirname(d)) {
    if (existsSync(join(d, name))) return d;
    if (dirname(d) === d) return null;
  }
}

/** `npm:preact@11.2.0/hooks` -> `preact/hooks`; `npm:/@scope/x@1/y` -> `@scope/x/y`. */
export function npmToBare(spec: string): string {
  const s = spec.replace(/^npm:\/?/, "");
  const m = /^(@[^/]+\/[^/@]+|[^/@]+)(@[^/]+)?(\/.*)?$/.exec(s);
  return m ? m[1] + (m[3] ?? "") : s;
}

function readImportMap(root: string): Record<string, string> {
  const dir = findUp(root, "deno.json");
  if (!dir) return {};
  try {
    return JSON.parse(readFileSync(join(dir, "deno.json"), "utf8")).imports ?? {};
  } catch {
    return {};
  }
}

/** The esbuild plugin that resolves the way Deno does, for npm packages only. */
export function denoResolvePlugin(root: string): Plugin {
  const aliases: [string, string][] = [];
  for (const [key, target] of Object.entries(readImportMap(root))) {
    if (!target.startsWith("npm:")) continue;
    const bare = npmToBare(target);
    if (bare !== key) aliases.push([key, bare]);
  }
  // Longest key first so "preact/" does not shadow a more specific entry
  aliases.sort((a, b) => b[0].length - a[0].length);
  return {
    name: "fw-deno-resolve",
    setup(build) {
      build.onResolve(
        { filter: /^npm:/ },
        (args) =>
          build.resolve(npmToBare(args.path), { kind: args.kind, resolveDir: args.resolveDir }),
      );
      build.onResolve({ filter: /^(jsr:|https?:|node:)/ }, (args) => ({
        errors: [{ text: `${args.path}: island code can only import npm packages and files` }],
      }));
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        for (const [key, bare] of aliases) {
          const hit = key.endsWith("/") ? args.path.startsWith(key) : args.path === key;
          if (!hit) continue;
          const path = bare + args.path.slice(key.length);
          if (path === args.path) return undefined;
          return build.resolve(path, { kind: args.kind, resolveDir: args.resolveDir });
        }
        return undefined;
      });
    },
  };
}

function entryName(key: string): string {
  return "island-" +
    key.replace(/^\.\/islands\//, "").replace(/\.\w+$/, "").replace(/[^\w-]+/g, "_");
}

async function sha256Hex(parts: Uint8Array[]): Promise<string> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) all.set(p, (at += p.length) - p.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bundle the runtime and the given islands. Minified in prod, with inline source maps in dev. */
export async function bundle(opts: BundleOptions): Promise<BuildOutput> {
  esbuildModule ??= await import("esbuild");
  const esbuild = esbuildModule;
  const root = resolve(opts.root);
  const outdir = join(root, "_fw_out");
  const entries = [{ in: decodeURIComponent(RUNTIME_ENTRY.pathname), out: "fw-runtime" }];
  const outNames = new Map<string, string>();
  for (const key of [...opts.islandKeys].sort()) {
    const out = entryName(key);
    if ([...outNames.values()].includes(out)) throw new Error(`island name clash: ${key}`);
    outNames.set(key, out);
    entries.push({ in: join(root, key), out });
  }
  const nodeModules = findUp(root, "node_modules");
  const prod = opts.mode === "prod";
  const started = performance.now();
  const result = await esbuild.build({
    entryPoints: entries,
    absWorkingDir: root,
    outdir,
    bundle: true,
    write: false,
    format: "esm",
    splitting: true,
    platform: "browser",
    target: "es2022",
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    minify: prod,
    sourcemap: prod ? false : "inline",
    jsx: "automatic",
    jsxImportSource: "preact",
    nodePaths: nodeModules ? [join(nodeModules, "node_modules")] : [],
    define: { "process.env.NODE_ENV": JSON.stringify(prod ? "production" : "development") },
    logLevel: "silent",
    plugins: [denoResolvePlugin(root)],
  });
  const buildMs = performance.now() - started;
  const files = new Map<string, Uint8Array>();
  for (const f of result.outputFiles as { path: string; contents: Uint8Array }[]) {
    files.set(relative(outdir, f.path), f.contents);
  }
  const names = [...files.keys()].sort();
  const find = (out: string) => {
    const re = new RegExp(`^${out.replace(/[-]/g, "\\-")}-[A-Z0-9]+\\.js$`);
    const hit = names.find((n) => re.test(n));
    if (!hit) throw new Error(`esbuild produced no output for ${out}`);
    return hit;
  };
  const islands: Record<string, string> = {};
  for (const [key, out] of outNames) islands[key] = find(out);
  const enc = new TextEncoder();
  const buildId = (await sha256Hex(names.flatMap((n) => [enc.encode(n), files.get(n)!])))
    .slice(0, 16);
  return { buildId, files, runtime: find("fw-runtime"), islands, buildMs };
}

/** Stop esbuild's child process (it restarts on the next build). */
export async function stopBundler(): Promise<void> {
  if (esbuildModule) await esbuildModule.stop();
}

/** Raw and gzip size of a build's files, in bytes. */
export async function measure(out: BuildOutput): Promise<{ raw: number; gzip: number }> {
  let raw = 0, gzip = 0;
  for (const bytes of out.files.values()) {
    raw += bytes.length;
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
      new CompressionStream("gzip"),
    );
    gzip += (await new Response(stream).arrayBuffer()).byteLength;
  }
  return { raw, gzip };
}
