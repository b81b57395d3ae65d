import assert from "node:assert/strict";
import { htmlToText, MAX_HTML_DEPTH, rewriteCidUrls, sanitizeEmailHtml } from "./sanitize.ts";

Deno.test("[sanitize] script, style, iframe, object, form and svg are removed with content", () => {
  const out = sanitizeEmailHtml(
    `<style>p{color:red}</style><script>steal()</script><p>keep</p><iframe src="https://x.example"></iframe>` +
      `<object data="x"></object><embed src="x"><form><input value="v"><textarea>t</textarea></form>` +
      `<svg><script>bad()</script></svg><math><mi>m</mi></math>`,
  );
  assert.doesNotMatch(out, /<(style|script|iframe|object|embed|form|input|textarea|svg|math)/i);
  assert.doesNotMatch(out, /steal|bad\(\)|color:red/);
  assert.match(out, /<p>keep<\/p>/);
});

Deno.test("[sanitize] event handlers, class, id and javascript:/vbscript:/data: links go", () => {
  const out = sanitizeEmailHtml(
    `<a href="javascript:alert(1)" onclick="x()">a</a><a href="  JAVASCRIPT:alert(1)">b</a>` +
      `<a href="vbscript:msgbox">c</a><a href="data:text/html;base64,PHNjcmlwdD4=">d</a>` +
      `<a href="/api/v1/auth/logout">e</a><a href="#top">f</a><a href="//evil.example/">g</a>` +
      `<p class="btn" id="main" onmouseover="x()">p</p><img src="x" onerror="y()">`,
  );
  assert.doesNotMatch(out, /href=/);
  assert.doesNotMatch(out, /\son\w+=|class=|id=/);
  assert.doesNotMatch(out, /src="x"/);
  assert.equal((out.match(/rel="noopener noreferrer" target="_blank"/g) ?? []).length, 7);
});

Deno.test("[sanitize] links keep http(s)/mailto and always open in a new tab", () => {
  const out = sanitizeEmailHtml(
    `<a href="https://a.example/x?y=1&amp;z=2" target="_self" rel="opener">x</a><a href="mailto:a@b.example">m</a>`,
  );
  assert.match(out, /href="https:\/\/a\.example\/x\?y=1&amp;z=2"/);
  assert.match(out, /href="mailto:a@b\.example"/);
  assert.doesNotMatch(out, /_self|"opener"/);
  assert.equal((out.match(/rel="noopener noreferrer" target="_blank"/g) ?? []).length, 2);
});

Deno.test("[sanitize] images allow http(s), cid and raster data: URLs only", () => {
  const out = sanitizeEmailHtml(
    `<img src="https://cdn.example/a.png" srcset="https://x.example/b.png 2x">` +
      `<img src="cid:part1@x"><img src="data:image/png;base64,iVBORw0KGgo=">` +
      `<img src="data:image/svg+xml;base64,PHN2Zz4="><img src="ftp://x.example/y.png">` +
      `<img src="/local.png">`,
  );
  assert.match(out, /src="https:\/\/cdn\.example\/a\.png"/);
  assert.match(out, /src="cid:part1@x"/);
  assert.match(out, /src="data:image\/png;base64,iVBORw0KGgo="/);
  assert.doesNotMatch(out, /svg|ftp:|srcset|local\.png/);
});

Deno.test("[sanitize] inline styles keep safe properties and drop url(), expression, position", () => {
  const out = sanitizeEmailHtml(
    `<p style="color: red; background-image: url(https://t.example/p.gif); width: expression(alert(1));` +
      ` position: fixed; font-size: 14px; behavior: url(x.htc); margin: 0 auto">x</p>` +
      `<div style="background: url(&quot;https://t.example&quot;)">y</div>` +
      `<span style="color: re\\64">z</span><span style="color:red&#10;;width:1px;&#10;background:url(a)">w</span>`,
  );
  assert.match(out, /color:red/);
  assert.match(out, /font-size:14px/);
  assert.match(out, /margin:0 auto/);
  assert.doesNotMatch(out, /url|expression|position|behavior|background|\\/i);
});

Deno.test("[sanitize] tables and basic formatting survive", () => {
  const html = `<table border="1" cellpadding="2"><thead><tr><th colspan="2">H</th></tr></thead>` +
    `<tbody><tr><td align="right">1</td><td>2</td></tr></tbody></table>` +
    `<h2>T</h2><ul><li><b>b</b> <i>i</i> <u>u</u></li></ul><blockquote>q</blockquote><pre>code</pre><br>`;
  const out = sanitizeEmailHtml(html);
  for (const t of ["table", "thead", "tbody", "tr", "th", "td", "h2", "ul", "li", "b", "i", "u"]) {
    assert.match(out, new RegExp(`<${t}[ >]`), t);
  }
  assert.match(out, /colspan="2"/);
  assert.match(out, /align="right"/);
  assert.match(out, /<blockquote>q<\/blockquote>/);
});

Deno.test("[sanitize] hostile nesting is flattened to text quickly instead of parsed", () => {
  const deep = "<div>".repeat(MAX_HTML_DEPTH * 40) + "deep text" +
    "</div>".repeat(MAX_HTML_DEPTH * 40);
  const out = sanitizeEmailHtml(deep);
  assert.match(out, /deep text/);
  assert.doesNotMatch(out, /<div>/);
  const ok = "<div>".repeat(50) + "fine" + "</div>".repeat(50);
  assert.equal(sanitizeEmailHtml(ok), ok);
});

Deno.test("[sanitize] rewriteCidUrls maps content ids to URLs and escapes them", () => {
  const html = sanitizeEmailHtml(
    `<img src="cid:logo@x"><img src="cid:%3Cenc%40x%3E"><img src="cid:Other@X"><img src="cid:missing@x">` +
      `<a href="cid:doc@x">doc</a>`,
  );
  const out = rewriteCidUrls(html, {
    "logo@x": "/api/v1/attachments/1",
    "enc@x": "/api/v1/attachments/2",
    "other@x": '/api/v1/attachments/3?a=1&b="2"',
    "doc@x": "/api/v1/attachments/4",
  });
  assert.match(out, /src="\/api\/v1\/attachments\/1"/);
  assert.match(out, /src="\/api\/v1\/attachments\/2"/);
  assert.match(out, /src="\/api\/v1\/attachments\/3\?a=1&amp;b=&quot;2&quot;"/);
  assert.match(out, /src="cid:missing@x"/);
  assert.doesNotMatch(
    out,
    /href="\/api\/v1\/attachments\/4"/,
    "cid: hrefs are not kept by sanitize",
  );
  assert.equal(rewriteCidUrls("", { a: "b" }), "");
});

Deno.test("[sanitize] htmlToText keeps paragraphs, lists and link targets, skips scripts", () => {
  const text = htmlToText(
    `<head><title>T</title><style>p{}</style></head><p>Hello <b>there</b></p><script>x()</script>` +
      `<ul><li>one</li><li>two</li></ul><a href="https://a.example/">site</a> ` +
      `<a href="https://b.example/">https://b.example/</a><img src="x.png" alt="img">`,
  );
  assert.match(text, /^Hello there\n\n/);
  assert.match(text, /\* one\n \* two/);
  assert.match(text, /site \[https:\/\/a\.example\/\]/);
  assert.doesNotMatch(text, /\[https:\/\/b\.example\/\]/);
  assert.doesNotMatch(text, /x\(\)|p\{\}|img|T\n/);
  assert.equal(htmlToText(""), "");
});
