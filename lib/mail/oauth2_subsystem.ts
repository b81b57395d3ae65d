/**
 * Boot wiring of OAuth2: installs `svc.ext.oauthAccessToken` (the IMAP connector asks it for a
 * fresh access token before each login) and the health contributor. Kept apart from
 * `oauth2.ts` because routes import that one, and `lib/app.ts` imports the routes.
 */
import { SUBSYSTEMS } from "../app.ts";
import type { Services } from "../state.ts";
import type { HealthContributor } from "../health.ts";
import { type AccessOptions, getAccessToken, oauth2Health } from "./oauth2.ts";

SUBSYSTEMS.push((svc) => {
  svc.ext.oauthAccessToken = (s: Services, opts?: AccessOptions) => getAccessToken(s, opts);
  const health = (svc.ext.health ??= []) as HealthContributor[];
  health.push(oauth2Health);
  return { name: "oauth2" };
});
