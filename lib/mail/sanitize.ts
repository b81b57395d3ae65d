/**
 * Email HTML for display: sanitized with sanitize-html (a maintained allow-list sanitizer),
 * then served under a strict CSP. Also the HTML-to-text fallback for mails without a text part.
 *
 * Policy, on top of sanitize-html's allow-list model:
 * - Only formatting, lists, links, images and tables survive; `<script>`, `<style>` (whole
 *   blocks, including their text), `<iframe>`, `<object>`, forms and inputs are removed.
 *   `<style>` is dropped rather than filtered because email CSS would restyle the app page.
 * - No event handlers, `class` or `id` (the app's own CSS and scripts must not be reachable).
 * - Links: http, https, mailto only; each gets `rel="noopener noreferrer" target="_blank"`.
 * - Images: http, https, cid, and `data:image/(png|gif|jpeg|webp);base64` only; no srcset.
 * - Inline styles: an allow-list of layout-neutral properties whose values contain no
 *   `url(`, `expression(`, escapes or at-rules; `position` is never kept (overlays).
 *
 * @module
 */
import sanitizeHtml from "sanitize-html";
import { compile } from "html-to-text";

/** Largest HTML string handed to html-to-text; longer input is cut (bounds work). */
export const MAX_HTML_TO_TEXT_CHARS = 4 * 1024 * 1024;
/** Largest HTML string sanitized; longer input is cut (sanitizing runs at about 3 MB/s). */
export const MAX_HTML_CHARS = 8 * 1024 * 1024;
/**
 * Deepest tag nesting kept. htmlparser2 (under sanitize-html and html-to-text) is quadratic
 * in nesting depth: 100k nested divs (1 MB) took 16 s. Deeper HTML is reduced to its text.
 */
export const MAX_HTML_DEPTH = 500;

const VOID_TAGS = new Set(
  "area base br col embed hr img input link meta param source track wbr".split(" "),
);

/** Approximate tag nesting depth (implied closes count as open); stops past `limit`. */
function exceedsDepth(html: string, limit: number): boolean {
  const re = /<(\/?)([a-z][a-z0-9-]*)\b[^<>]*?(\/?)>/gi;
  let depth = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html)) !== null) {
    if (m[1] === "/") depth = Math.max(0, depth - 1);
    else if (m[3] !== "/" && !VOID_TAGS.has(m[2].toLowerCase())) {
      if (++depth > limit) return true;
    }
  }
  return false;
}

const ALLOWED_TAGS = (
  "a abbr address b bdi bdo big blockquote br caption center cite code col colgroup dd del " +
  "dfn div dl dt em font h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small " +
  "span strike strong sub sup table tbody td tfoot th thead tr tt u ul var wbr"
).split(" ");

const CELL_ATTRS = [
  "align",
  "valign",
  "width",
  "height",
  "colspan",
  "rowspan",
  "bgcolor",
  "nowrap",
];

const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  "*": ["style", "title", "dir", "lang", "align"],
  a: ["href", "name", "target", "rel"],
  img: ["src", "alt", "width", "height", "border"],
  table: ["width", "border", "cellpadding", "cellspacing", "bgcolor", "align"],
  td: CELL_ATTRS,
  th: CELL_ATTRS,
  tr: ["align", "valign", "bgcolor"],
  col: ["span", "width"],
  colgroup: ["span", "width"],
  font: ["color", "size", "face"],
  ol: ["start", "type"],
  ul: ["type"],
  li: ["value"],
  blockquote: ["cite"],
};

// A CSS value with none of the dangerous constructs: url(), expression(), -moz-binding,
// javascript:, backslash escapes (which could spell any of those), comments or at-rules.
const SAFE_VALUE =
  /^(?![\s\S]*(?:url\s*\(|expression|javascript|vbscript|behavior|binding|@import|\\|\/\*))[-#%.,!'"\w\s()+/]*$/i;
const SAFE_STYLE_PROPS = (
  "color background-color font font-family font-size font-style font-weight font-variant " +
  "text-align text-decoration text-indent text-transform line-height letter-spacing " +
  "word-spacing white-space word-break word-wrap overflow-wrap vertical-align direction " +
  "width height max-width min-width max-height min-height margin margin-top margin-right " +
  "margin-bottom margin-left padding padding-top padding-right padding-bottom padding-left " +
  "border border-top border-right border-bottom border-left border-color border-style " +
  "border-width border-collapse border-spacing border-radius list-style-type display " +
  "table-layout"
).split(" ");

const ALLOWED_STYLES: Record<string, Record<string, RegExp[]>> = {
  "*": Object.fromEntries(SAFE_STYLE_PROPS.map((p) => [p, [SAFE_VALUE]])),
};

const LINK_URL = /^(?:https?:\/\/|mailto:)/i;
const IMG_URL = /^(?:https?:\/\/|cid:|data:)/i;
const DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]+$/i;

const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: ALLOWED_ATTRIBUTES,
  allowedStyles: ALLOWED_STYLES,
  allowedSchemes: ["http", "https", "mailto"],
  allowedSchemesByTag: { img: ["http", "https", "cid", "data"] },
  allowedSchemesAppliedToAttributes: ["href", "src", "cite"],
  allowProtocolRelative: false,
  // Drop these elements together with their content; anything else unknown keeps its text.
  nonTextTags: ["script", "style", "textarea", "option", "noscript", "title", "head", "template"],
  disallowedTagsMode: "discard",
  transformTags: {
    a: (tagName, attribs) => {
      const { rel: _rel, target: _target, ...rest } = attribs;
      const out: Record<string, string> = { ...rest };
      // Relative and fragment links would navigate inside the app itself.
      if (out.href !== undefined && !LINK_URL.test(out.href.trim())) delete out.href;
      return { tagName, attribs: { ...out, rel: "noopener noreferrer", target: "_blank" } };
    },
    img: (tagName, attribs) => {
      const out = { ...attribs };
      const src = (out.src ?? "").trim();
      // Relative URLs would make the viewer's browser call the app's own endpoints, and
      // sanitize-html lets any data: URL through once "data" is an allowed scheme.
      if (!IMG_URL.test(src) || (/^data:/i.test(src) && !DATA_IMAGE.test(src))) delete out.src;
      return { tagName, attribs: out };
    },
  },
};

/**
 * Sanitize untrusted email HTML for display (policy in the module doc). `cid:` image URLs are
 * kept so that the store step can rewrite them with {@link rewriteCidUrls}.
 */
export function sanitizeEmailHtml(html: string): string {
  if (typeof html !== "string" || html === "") return "";
  let input = html.length > MAX_HTML_CHARS ? html.slice(0, MAX_HTML_CHARS) : html;
  if (exceedsDepth(input, MAX_HTML_DEPTH)) {
    // Hostile nesting: keep the text (entities stay escaped), drop every tag.
    input = input.replace(/<[^<>]*>?/g, " ");
  }
  return sanitizeHtml(input, { ...SANITIZE_OPTIONS, nestingLimit: MAX_HTML_DEPTH });
}

function escapeAttr(v: string): string {
  return v.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(
    />/g,
    "&gt;",
  );
}

function decodeAttr(v: string): string {
  return v.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(
    /&gt;/g,
    ">",
  ).replace(/&#x27;|&#39;/g, "'");
}

/**
 * Replace `src`/`href` values of the form `cid:<content-id>` with the URL mapped for that
 * content id (keys without angle brackets). Meant for {@link sanitizeEmailHtml} output, whose
 * attributes are always double-quoted. Ids are matched exactly, then URL-decoded, then
 * case-insensitively; unmapped `cid:` URLs are left alone (the CSP blocks them anyway).
 */
export function rewriteCidUrls(html: string, map: Record<string, string>): string {
  if (!html) return html;
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(map)) lower.set(k.toLowerCase(), v);
  const lookup = (id: string): string | undefined => {
    if (Object.hasOwn(map, id)) return map[id];
    let decoded = id;
    try {
      decoded = decodeURIComponent(id);
    } catch { /* keep the raw id */ }
    decoded = decoded.trim().replace(/^<|>$/g, "");
    if (Object.hasOwn(map, decoded)) return map[decoded];
    return lower.get(decoded.toLowerCase());
  };
  return html.replace(
    /(\s(?:src|href)=)"\s*cid:([^"]*)"/gi,
    (whole, prefix: string, id: string) => {
      const cid = decodeAttr(id).trim().replace(/^<|>$/g, "");
      const url = lookup(cid);
      return url === undefined ? whole : `${prefix}"${escapeAttr(url)}"`;
    },
  );
}

const TEXT_OPTIONS = {
  wordwrap: false as const,
  selectors: [
    { selector: "a", options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
    { selector: "img", format: "skip" },
    { selector: "style", format: "skip" },
    { selector: "script", format: "skip" },
    { selector: "head", format: "skip" },
  ],
  limits: { maxInputLength: MAX_HTML_TO_TEXT_CHARS, maxDepth: 200, maxChildNodes: 20_000 },
};

// Compiled once: `convert` compiles the options (selectors) on every call, which cost ~0.9 ms
// per mail, several times the conversion itself.
let converter: ((html: string) => string) | null = null;

/** Plain text for an HTML body (html-to-text, no word wrap, images and scripts skipped). */
export function htmlToText(html: string): string {
  if (typeof html !== "string" || html === "") return "";
  // Cut here rather than let html-to-text do it: it warns on the console when it cuts.
  const input = html.length > MAX_HTML_TO_TEXT_CHARS ? html.slice(0, MAX_HTML_TO_TEXT_CHARS) : html;
  converter ??= compile(TEXT_OPTIONS);
  return converter(input).trim();
}
