import { define } from "../../../lib/state.ts";
import { page } from "../../../lib/fw/mod.ts";
import ImapSettingsForm from "../../../islands/imap_settings.tsx";
import SmtpSettingsForm from "../../../islands/smtp_settings.tsx";

/** Admin → Settings: Incoming Mail (IMAP, OAuth2, polling) and Outgoing Mail (SMTP). */
export const handler = define.handlers({
  GET: () => page({ title: "Settings" }),
});

export default define.page<typeof handler>(() => (
  <div class="page">
    <header class="page-head">
      <div>
        <h1>Settings</h1>
        <p class="muted">Where WarmDesk fetches mail from and how replies go out.</p>
      </div>
    </header>
    <nav class="tabs" aria-label="Settings sections">
      <a href="#incoming">Incoming Mail</a>
      <a href="#outgoing">Outgoing Mail</a>
    </nav>
    <section id="incoming" class="card settings-card" aria-labelledby="incoming-title">
      <h2 id="incoming-title">Incoming Mail</h2>
      <p class="muted">
        WarmDesk polls this IMAP mailbox; new mail lands in the Inbox, replies thread onto their
        tickets.
      </p>
      <ImapSettingsForm />
    </section>
    <section id="outgoing" class="card settings-card" aria-labelledby="outgoing-title">
      <h2 id="outgoing-title">Outgoing Mail</h2>
      <p class="muted">Replies to email tickets are sent through this SMTP server.</p>
      <SmtpSettingsForm />
    </section>
  </div>
));
