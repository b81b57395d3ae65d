// Self-test of the browser helper: real Chromium renders a page, runs its script, takes a screenshot.
import assert from "node:assert/strict";
import { launchBrowser, screenshot } from "./browser.ts";

Deno.test("[browser] Chromium clicks, reads the DOM and writes a screenshot", async () => {
  const html = `<!doctype html><title>t</title><h1 id="h">Inbox</h1>
    <button id="b" onclick="document.getElementById('h').textContent='Clicked'">go</button>`;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(html, { headers: { "content-type": "text/html" } }),
  );
  let profile = "";
  try {
    await using b = await launchBrowser();
    profile = b.userDataDir;
    assert.ok((await Deno.stat(profile)).isDirectory);
    const page = await b.newPage();
    await page.goto(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(await page.textContent("#h"), "Inbox");
    await page.click("#b");
    assert.equal(await page.textContent("#h"), "Clicked");
    const path = await screenshot(page, "support-browser-self-test");
    const png = await Deno.readFile(path);
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  } finally {
    await server.shutdown();
  }
  await assert.rejects(() => Deno.stat(profile), Deno.errors.NotFound, "profile dir removed");
});
