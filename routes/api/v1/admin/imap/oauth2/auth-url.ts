/** GET /api/v1/admin/imap/oauth2/auth-url?provider=google|office365 → `{url}` of the consent page. */
import { define } from "../../../../../../lib/state.ts";
import { fieldError, json } from "../../../../../../lib/http/validate.ts";
import { HttpError } from "../../../../../../lib/fw/mod.ts";
import { startAuthorization } from "../../../../../../lib/mail/oauth2.ts";
import {
  missingKeys,
  OAUTH2_PROVIDERS,
  type OAuth2Provider,
  PROVIDER_LABEL,
} from "../../../../../../lib/mail/oauth2_providers.ts";

export const handler = define.handlers({
  async GET(ctx) {
    const provider = ctx.url.searchParams.get("provider") as OAuth2Provider | null;
    if (!provider || !OAUTH2_PROVIDERS.includes(provider)) {
      throw fieldError("provider", `must be one of ${OAUTH2_PROVIDERS.join(", ")}`);
    }
    const missing = missingKeys(ctx.state.svc.config, provider);
    if (missing.length) {
      // built here rather than thrown: the answer also lists the keys for the settings page
      return json({
        error: `OAuth2 for ${PROVIDER_LABEL[provider]} is not configured: add ${
          missing.join(", ")
        } to warmdesk.yaml`,
        code: "oauth2_not_configured",
        missing,
      }, 409);
    }
    if (!ctx.state.sessionToken || !ctx.state.user) {
      throw new HttpError(401, "Sign in first", "unauthorized");
    }
    const { url } = await startAuthorization(ctx.state.svc, {
      provider,
      sessionToken: ctx.state.sessionToken,
      userId: ctx.state.user.id,
    });
    return json({ url }, 200, { "cache-control": "no-store" });
  },
});
