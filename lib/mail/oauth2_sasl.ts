/**
 * SASL mechanism order for OAuth2 IMAP logins: XOAUTH2 first, OAUTHBEARER as fallback.
 *
 * imapflow 2 picks the mechanism itself when `auth.accessToken` is set: OAUTHBEARER whenever the
 * server advertises it, else XOAUTH2 (`commands/authenticate.js`); `auth.loginMethod` applies
 * to passwords only, so there is no option for it. Gmail and Office 365 document XOAUTH2 as
 * their primary mechanism, so {@link preferXoauth2} wraps the client's (internal, but stable
 * since 1.x) `authenticate()` step: while it runs, AUTH=OAUTHBEARER is hidden from the
 * capability map when AUTH=XOAUTH2 is also offered; if the server refuses XOAUTH2 (a tagged
 * NO), the same connection tries OAUTHBEARER once. A server offering only one of them gets
 * that one, unchanged.
 */
import type { ImapFlow } from "imapflow";

/** The parts of imapflow's client this module touches (not in its public typings). */
interface ImapFlowInternals {
  authenticate(): Promise<boolean>;
  capabilities: Map<string, boolean | number>;
  authCapabilities?: Map<string, boolean>;
  state: unknown;
  states: { NOT_AUTHENTICATED: unknown };
  options: { auth?: { accessToken?: string } };
}

const PATCHED = Symbol("warmdesk.preferXoauth2");

/**
 * Make `client` try XOAUTH2 before OAUTHBEARER. Call right after `new ImapFlow(...)`, before
 * `connect()`. Harmless for password logins (they are left alone).
 */
export function preferXoauth2<T extends ImapFlow>(client: T): T {
  const c = client as unknown as ImapFlowInternals & { [PATCHED]?: true };
  if (c[PATCHED]) return client;
  c[PATCHED] = true;
  const original = c.authenticate.bind(c);
  c.authenticate = async () => {
    const caps = c.capabilities;
    const xoauth2 = caps.has("AUTH=XOAUTH2") || caps.has("AUTH=XOAUTH");
    const bearer = caps.get("AUTH=OAUTHBEARER");
    if (!c.options.auth?.accessToken || !xoauth2 || bearer === undefined) return await original();
    caps.delete("AUTH=OAUTHBEARER");
    try {
      return await original();
    } catch (e) {
      const refused = (e as { authenticationFailed?: boolean }).authenticationFailed === true;
      if (!refused || c.state !== c.states.NOT_AUTHENTICATED) throw e;
      // XOAUTH2 refused: imapflow prefers OAUTHBEARER once it is visible again
      caps.set("AUTH=OAUTHBEARER", bearer);
      return await original();
    } finally {
      // imapflow replaces the map after login (CAPABILITY); this restores the pre-login one
      if (!caps.has("AUTH=OAUTHBEARER")) caps.set("AUTH=OAUTHBEARER", bearer);
    }
  };
  return client;
}

/** The SASL mechanism a connected client logged in with ("XOAUTH2", "OAUTHBEARER", ...). */
export function saslMechanism(client: ImapFlow): string | null {
  const used = (client as unknown as ImapFlowInternals).authCapabilities;
  for (const m of ["XOAUTH2", "OAUTHBEARER", "XOAUTH", "PLAIN", "LOGIN"]) {
    if (used?.get(`AUTH=${m}`)) return m;
  }
  return null;
}
