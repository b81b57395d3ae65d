/**
 * OAuth2 part of Incoming Mail: the provider's connection state, Authorise (a popup on the
 * provider's consent page, opened from the click so popup blockers allow it) and Disconnect.
 * A missing configuration comes from the status route (`configured`, `missing_keys`), so
 * choosing OAuth2 writes nothing; `auth-url` (which records a state) is only asked on Authorise.
 * The callback page posts `{type: "warmdesk-oauth2", ok, error?}` to its opener and on the
 * `BroadcastChannel("warmdesk-oauth2")` (for when the opener link was cut); the first of the two
 * is handled and the status re-read without a reload. A popup closed without either message is
 * reported too (after re-checking the status a few times, in case the message could not reach
 * us).
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { api, ApiError, errorText } from "./api.ts";
import { fullTime } from "./format.ts";
import { Result } from "./form.tsx";

/** GET /api/v1/admin/imap/oauth2/status. */
export interface OAuthStatus {
  provider: string | null;
  connected: boolean;
  account: string | null;
  access_token_set: boolean;
  expires_at: string | null;
  error: string | null;
  /** Per provider: are the client id and secret in warmdesk.yaml? */
  configured?: Record<string, boolean>;
  /** Per provider: the missing `oauth2.*` keys. */
  missing_keys?: Record<string, string[]>;
}

/** The callback page's message (opener postMessage or BroadcastChannel). */
interface CallbackMessage {
  type?: string;
  ok?: boolean;
  error?: string;
}

/** The name of the callback's message type and BroadcastChannel. */
const CHANNEL = "warmdesk-oauth2";

const PROVIDER_NAMES: Record<string, string> = { google: "Google", office365: "Office 365" };

/** Props: the provider chosen in the form; called after connect/disconnect. */
export interface OAuthPanelProps {
  provider: string;
  /** The connection changed; `note` is shown by the form (this panel may unmount). */
  onChanged: (note?: string) => void;
}

export function OAuthPanel(props: OAuthPanelProps) {
  const status = useSignal<OAuthStatus | null>(null);
  const message = useSignal<{ kind: "ok" | "error" | "info"; text: string } | null>(null);
  /** A 409 from auth-url (the status said configured, the server then disagreed). */
  const configError = useSignal<string | null>(null);
  const busy = useSignal(false);
  const popup = useRef<Window | null>(null);
  const watch = useRef<number | null>(null);
  const finished = useRef(false);
  /** Authorise clicks so far (0: this tab has not asked for anything). */
  const attempt = useRef(0);
  /** When the last callback result was handled: opener and channel both deliver it. */
  const handledAt = useRef(0);

  const refresh = async () => {
    try {
      status.value = await api<OAuthStatus>("GET", "/api/v1/admin/imap/oauth2/status");
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        message.value = {
          kind: "error",
          text: `Could not read the OAuth2 status: ${errorText(err)}`,
        };
      }
    }
    return status.peek();
  };

  const stopWatching = () => {
    if (watch.current !== null) clearInterval(watch.current);
    watch.current = null;
  };

  // another provider chosen: an earlier 409 was about the other one
  useEffect(() => {
    configError.value = null;
  }, [props.provider]);

  useEffect(() => {
    refresh();
    const onResult = async (d: CallbackMessage | null) => {
      if (!d || d.type !== CHANNEL) return;
      // the same result through the second path (they arrive milliseconds apart)
      if (Date.now() - handledAt.current < 3000) return;
      handledAt.current = Date.now();
      if (attempt.current === 0 || finished.current) {
        // another tab's popup (the channel reaches every tab): its error is not ours to show,
        // but a new connection is
        const s = await refresh();
        if (d.ok && s?.connected) {
          message.value = {
            kind: "ok",
            text: `Mailbox connected${s.account ? ` as ${s.account}` : ""}.`,
          };
          props.onChanged();
        }
        return;
      }
      finished.current = true;
      stopWatching();
      busy.value = false;
      const s = await refresh();
      if (d.ok) {
        message.value = {
          kind: "ok",
          text: `Mailbox connected${s?.account ? ` as ${s.account}` : ""}.`,
        };
        props.onChanged();
      } else {
        message.value = {
          kind: "error",
          text: `Authorisation failed: ${d.error ?? "unknown error"}`,
        };
      }
    };
    const onMessage = (e: MessageEvent) => {
      if (e.origin === location.origin) onResult(e.data as CallbackMessage | null);
    };
    addEventListener("message", onMessage);
    // same-origin by definition; the callback posts here too in case window.opener was cut
    const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL) : null;
    if (channel) channel.onmessage = (e) => onResult(e.data as CallbackMessage | null);
    return () => {
      removeEventListener("message", onMessage);
      channel?.close();
      stopWatching();
    };
  }, []);

  /** The popup closed: if no message came, look at the status before calling it cancelled. */
  const onClosed = async () => {
    for (let i = 0; i < 4 && !finished.current; i++) {
      const s = await refresh();
      if (s?.connected && !s.error) {
        if (finished.current) return;
        finished.current = true;
        busy.value = false;
        message.value = {
          kind: "ok",
          text: `Mailbox connected${s.account ? ` as ${s.account}` : ""}.`,
        };
        props.onChanged();
        return;
      }
      await new Promise((r) => setTimeout(r, 700));
    }
    if (finished.current) return;
    busy.value = false;
    message.value = {
      kind: "error",
      text: "Authorisation cancelled: the sign-in window was closed before it finished.",
    };
  };

  const authorise = async () => {
    message.value = null;
    configError.value = null;
    finished.current = false;
    attempt.current++;
    stopWatching();
    // Open from the click itself (popup blockers), then send it to the provider
    const w = open("about:blank", "warmdesk-oauth2", "popup,width=520,height=680");
    popup.current = w;
    busy.value = true;
    try {
      const { url } = await api<{ url: string }>(
        "GET",
        `/api/v1/admin/imap/oauth2/auth-url?provider=${encodeURIComponent(props.provider)}`,
      );
      if (!w) {
        busy.value = false;
        message.value = {
          kind: "error",
          text:
            "The browser blocked the sign-in window. Allow pop-ups for this site and try again.",
        };
        return;
      }
      w.location.href = url;
      message.value = { kind: "info", text: "Waiting for the provider's sign-in window…" };
      watch.current = setInterval(() => {
        if (w.closed) {
          stopWatching();
          onClosed();
        }
      }, 500) as unknown as number;
    } catch (err) {
      w?.close();
      busy.value = false;
      if (err instanceof ApiError && err.code === "oauth2_not_configured") {
        configError.value = err.message;
      } else {
        message.value = { kind: "error", text: errorText(err) };
      }
    }
  };

  const disconnect = async () => {
    busy.value = true;
    message.value = null;
    try {
      await api("POST", "/api/v1/admin/imap/oauth2/disconnect");
      await refresh();
      const text = "Disconnected. The mailbox uses password sign-in again.";
      message.value = { kind: "info", text };
      // the server switched auth back to plain: the form hides this panel
      props.onChanged(text);
    } catch (err) {
      message.value = { kind: "error", text: errorText(err) };
    } finally {
      busy.value = false;
    }
  };

  const s = status.value;
  const name = PROVIDER_NAMES[props.provider] ?? props.provider;
  // from the status route (no write); a 409 from auth-url says the same with the server's words
  const missing = s?.configured?.[props.provider] === false
    ? s.missing_keys?.[props.provider] ?? []
    : null;
  const notConfigured = configError.value ??
    (missing
      ? `${name} needs ${
        missing.length ? missing.join(", ") : "a client id and secret"
      } in warmdesk.yaml.`
      : null);
  return (
    <div class="oauth-panel span-all" data-oauth="">
      <div class="oauth-state">
        {s?.connected
          ? (
            <p data-oauth-connected="">
              <span class="dot dot-ok" aria-hidden="true" /> Connected to{" "}
              {PROVIDER_NAMES[s.provider ?? ""] ?? s.provider}
              {s.account
                ? (
                  <>
                    {" "}as <strong>{s.account}</strong>
                  </>
                )
                : null}
              {s.expires_at && s.access_token_set
                ? (
                  <span class="muted small oauth-expiry">
                    · access token valid until {fullTime(s.expires_at)}
                  </span>
                )
                : null}
            </p>
          )
          : (
            <p>
              <span class="dot" aria-hidden="true" /> Not connected
            </p>
          )}
        {s?.error ? <Result kind="error">Token problem: {s.error}</Result> : null}
      </div>
      {notConfigured
        ? (
          <Result kind="error">
            <strong>OAuth2 is not configured.</strong> {notConfigured}
            <span class="block small">Restart WarmDesk after changing warmdesk.yaml.</span>
          </Result>
        )
        : null}
      <div class="row">
        <button
          type="button"
          class="button"
          onClick={authorise}
          disabled={busy.value || missing !== null}
        >
          {s?.connected ? `Authorise again with ${name}` : `Authorise with ${name}`}
        </button>
        {s?.connected
          ? (
            <button
              type="button"
              class="button button-quiet"
              onClick={disconnect}
              disabled={busy.value}
            >
              Disconnect
            </button>
          )
          : null}
      </div>
      {message.value ? <Result kind={message.value.kind}>{message.value.text}</Result> : null}
    </div>
  );
}
