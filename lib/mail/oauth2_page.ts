/**
 * The page the provider sends the Authorise popup back to. It tells the settings page how it
 * went — `window.opener.postMessage({type: "warmdesk-oauth2", ok, error?}, location.origin)`,
 * plus a same-origin BroadcastChannel of the same name in case the opener link was cut — and
 * closes itself. The script is inline under the request's CSP nonce; the message is JSON with
 * `<` escaped, so provider-supplied text cannot end the script element.
 */
import type { CallbackResult } from "./oauth2.ts";
import { PROVIDER_LABEL } from "./oauth2_providers.ts";

/** Message type the settings page listens for. */
export const CALLBACK_MESSAGE_TYPE = "warmdesk-oauth2";

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a `<script>` element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The HTML of the callback page for a result, with its inline script under `nonce`. */
export function callbackPage(result: CallbackResult, nonce: string): string {
  const message = result.ok
    ? { type: CALLBACK_MESSAGE_TYPE, ok: true, provider: result.provider }
    : {
      type: CALLBACK_MESSAGE_TYPE,
      ok: false,
      error: result.error,
      ...(result.provider ? { provider: result.provider } : {}),
    };
  const title = result.ok
    ? `${PROVIDER_LABEL[result.provider]} mailbox connected`
    : "Authorisation failed";
  const text = result.ok
    ? `WarmDesk can now read ${result.account ?? "the mailbox"}. This window closes by itself.`
    : result.error;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · WarmDesk</title>
<link rel="stylesheet" href="/css/app.css">
</head>
<body class="oauth-callback">
<main class="oauth-callback-main" data-oauth-result="${result.ok ? "ok" : "error"}">
<h1>${escapeHtml(title)}</h1>
<p${result.ok ? "" : ' role="alert"'}>${escapeHtml(text)}</p>
<p><a href="/admin/settings">Back to the settings</a></p>
</main>
<script nonce="${escapeHtml(nonce)}">
(function () {
  var msg = ${scriptJson(message)};
  var told = false;
  try {
    if (window.opener && !window.opener.closed) {
      window.opener.postMessage(msg, location.origin);
      told = true;
    }
  } catch (e) {}
  try {
    var ch = new BroadcastChannel(msg.type);
    ch.postMessage(msg);
    ch.close();
    told = true;
  } catch (e) {}
  if (told) window.close();
})();
</script>
</body>
</html>
`;
}
