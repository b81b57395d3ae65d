/**
 * GET /api/v1/admin/imap/oauth2/callback?code=&state= — where the provider sends the popup
 * back. Always answers the HTML page that notifies its opener and closes itself, also without an
 * admin session: the guard lets this one admin path through (`public` in ACCESS_RULES) so the
 * popup can say what went wrong instead of showing raw JSON. Only a signed-in admin reaches
 * `completeAuthorization`, which also requires the very session that asked for the state; an
 * anonymous or non-admin caller neither completes nor uses up anyone's state.
 */
import { define } from "../../../../../../lib/state.ts";
import { type CallbackResult, completeAuthorization } from "../../../../../../lib/mail/oauth2.ts";
import { callbackPage } from "../../../../../../lib/mail/oauth2_page.ts";

/** The page's answer when no admin session came with the popup. */
const SIGN_IN_FIRST = "Sign in to WarmDesk as an admin, then try Authorise again.";
/** The page's answer for a signed-in user who is not an admin. */
const ADMINS_ONLY =
  "Only an admin can connect a mailbox. Sign in to WarmDesk as an admin, then try Authorise again.";

export const handler = define.handlers({
  async GET(ctx) {
    const { user, sessionToken } = ctx.state;
    let status = 200;
    let result: CallbackResult;
    if (!user || !sessionToken) {
      status = 401;
      result = { ok: false, error: SIGN_IN_FIRST };
    } else if (user.role !== "admin") {
      status = 403;
      result = { ok: false, error: ADMINS_ONLY };
    } else {
      result = await completeAuthorization(ctx.state.svc, {
        sessionToken,
        query: ctx.url.searchParams,
      });
    }
    return new Response(callbackPage(result, ctx.state.cspNonce), {
      status,
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
