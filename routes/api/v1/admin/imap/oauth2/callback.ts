/**
 * GET /api/v1/admin/imap/oauth2/callback?code=&state= — where the provider sends the popup
 * back. Always answers the HTML page that notifies its opener and closes itself.
 */
import { define } from "../../../../../../lib/state.ts";
import { completeAuthorization } from "../../../../../../lib/mail/oauth2.ts";
import { callbackPage } from "../../../../../../lib/mail/oauth2_page.ts";

export const handler = define.handlers({
  async GET(ctx) {
    const result = await completeAuthorization(ctx.state.svc, {
      sessionToken: ctx.state.sessionToken,
      query: ctx.url.searchParams,
    });
    return new Response(callbackPage(result, ctx.state.cspNonce), {
      status: 200,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        // the popup arrives from the provider's origin: a same-origin COOP here would cut the
        // link to the settings page that opened it (window.opener would be null)
        "cross-origin-opener-policy": "unsafe-none",
      },
    });
  },
});
