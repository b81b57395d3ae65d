/**
 * The fw layer in a real Chromium: islands hydrate under a strict nonce CSP, a shared
 * signal stays shared, slots keep their server HTML, and props keep their types.
 */
import assert from "node:assert/strict";
import { createApp } from "../lib/fw/mod.ts";
import { manifest } from "./fixtures/fw_app/routes.gen.ts";
import { initialState } from "./fixtures/fw_app/state.ts";
import { launchBrowser } from "./support/browser.ts";

Deno.test("[fw browser] a counter island hydrates and reacts to clicks", async () => {
  const app = createApp(manifest, { initialState, staticDir: "static", build: { mode: "dev" } });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => app.fetch(req, info),
  );
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      // the favicon 404 is the browser's own request, not the page's
      if (m.type() === "error" && m.text().includes("status of 404")) return;
      if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("response", (r) => {
      if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) {
        problems.push(`${r.status()} ${r.url()}`);
      }
    });
    const base = `http://127.0.0.1:${server.addr.port}`;
    const res = await page.goto(`${base}/`);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()["content-security-policy"] ?? "", /'nonce-/);

    // every island region gets data-hydrated once hydrate() returned
    await page.waitForFunction(() =>
      document.querySelectorAll("x-island").length === 4 &&
      document.querySelectorAll("x-island[data-hydrated]").length === 4
    );
    assert.equal(await page.textContent("#counter-a"), "count 3");
    await page.click("#counter-a");
    await page.waitForFunction(() =>
      document.querySelector("#counter-a")?.textContent === "count 4"
    );
    // both counters hold the same signal: the other one follows
    assert.equal(await page.textContent("#counter-b"), "count 4");
    await page.click("#counter-b");
    await page.waitForFunction(() =>
      document.querySelector("#counter-a")?.textContent === "count 5"
    );

    // the slot keeps the server-rendered children while the island toggles around it
    assert.equal(await page.textContent("#panel .note"), "Rendered on the server");
    await page.click("#panel-toggle");
    await page.waitForFunction(() =>
      document.querySelector("#panel-toggle")?.textContent === "Details (closed)"
    );
    assert.equal(await page.isHidden("#panel-body"), true);
    await page.click("#panel-toggle");
    await page.waitForFunction(() => !document.querySelector<HTMLElement>("#panel-body")?.hidden);
    assert.equal(await page.textContent("#panel .note"), "Rendered on the server");

    // Date and Map props arrive as a Date and a Map
    await page.waitForFunction(() =>
      document.querySelector("#info")?.textContent?.startsWith("browser:")
    );
    assert.equal(await page.textContent("#info"), "browser: 2024-05-06T07:08:09.000Z map 2");

    // the stylesheet from static/ loaded under the CSP
    const color = await page.evaluate(() =>
      getComputedStyle(document.querySelector(".note")!).color
    );
    assert.equal(color, "rgb(85, 85, 85)");
    // markers take no box of their own (set by the runtime: CSP forbids style attributes)
    assert.deepEqual(
      await page.evaluate(() =>
        [...document.querySelectorAll("x-island, x-slot")].map((e) => getComputedStyle(e).display)
      ),
      ["contents", "contents", "contents", "contents", "contents"],
    );
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.shutdown();
    await app.close();
  }
});
