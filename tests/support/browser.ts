/**
 * Real headless Chromium for end-to-end tests, driven by npm playwright-core.
 *
 *   await using b = await launchBrowser();     // or: const b = ...; try { } finally { await b.close() }
 *   const page = await b.newPage();
 *   await page.goto(url);
 *   await screenshot(page, "inbox-live-update"); // tests/out/inbox-live-update.png
 *
 * Uses a persistent context in a fresh temp profile (launch() refuses --user-data-dir), removed
 * again by close(). Chromium comes from CHROMIUM_PATH or /usr/bin/chromium (Debian package).
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";

/**
 * Flags that keep Chromium quiet, offline and container-friendly. `--headless` is here and
 * Playwright is told `headless: false`, so it adds none of its own headless flags
 * (`--hide-scrollbars`, `--mute-audio`, hover/pointer overrides): pages keep their scrollbars,
 * which take layout width that the UI tests' overflow checks measure.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A launched browser; close() also deletes its profile directory. */
export interface TestBrowser extends AsyncDisposable {
  context: BrowserContext;
  /** The temporary profile directory (gone after close()). */
  userDataDir: string;
  /** A new tab (the first call reuses the blank tab Chromium opens with). */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Options of {@link launchBrowser}. */
export interface LaunchOptions {
  executablePath?: string;
  viewport?: { width: number; height: number };
  /** Extra Chromium flags. */
  args?: string[];
}

/** Launches headless Chromium with a throwaway profile. */
export async function launchBrowser(opts: LaunchOptions = {}): Promise<TestBrowser> {
  const userDataDir = await Deno.makeTempDir({ prefix: "warmdesk-chromium-" });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: opts.executablePath ?? Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium",
      headless: false, // see CHROMIUM_ARGS
      args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
      viewport: opts.viewport ?? { width: 1280, height: 800 },
    });
  } catch (e) {
    await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    throw e;
  }
  let blank: Page | undefined = context.pages()[0];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await context.close();
    } finally {
      await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
    }
  };
  return {
    context,
    userDataDir,
    newPage() {
      const p = blank;
      blank = undefined;
      return p ? Promise.resolve(p) : context.newPage();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Directory screenshots go to (gitignored). */
export const OUT_DIR: string = new URL("../out/", import.meta.url).pathname;

/** Saves a full-page PNG as tests/out/<name>.png and answers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(OUT_DIR, { recursive: true });
  const path = `${OUT_DIR}${name.replace(/[^\w.-]+/g, "_")}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
