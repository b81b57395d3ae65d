/**
 * Every Deno KV key WarmDesk uses is built here, so the layout can be read in one place.
 * Ids: users, customers, messages, attachments and blobs are ULIDs (sort by time); tickets are
 * positive integers from a counter.
 */

export const keys = {
  schemaVersion: () => ["meta", "schema_version"] as const,
  secretKey: () => ["meta", "secret_key"] as const,

  user: (id: string) => ["user", id] as const,
  users: () => ["user"] as const,
  userByEmail: (email: string) => ["user_by_email", email] as const,
  session: (tokenHash: string) => ["session", tokenHash] as const,
  loginFailures: (kind: "account" | "address", who: string) => ["login_fail", kind, who] as const,

  customer: (id: string) => ["customer", id] as const,
  customers: () => ["customer"] as const,
  customerByEmail: (email: string) => ["customer_by_email", email] as const,
  customerTicketCount: (customerId: string) => ["customer_ticket_count", customerId] as const,
  customerTicket: (customerId: string, ticketId: number) =>
    ["customer_ticket", customerId, ticketId] as const,
  customerTickets: (customerId: string) => ["customer_ticket", customerId] as const,

  ticketSeq: () => ["seq", "ticket"] as const,
  ticket: (id: number) => ["ticket", id] as const,
  tickets: () => ["ticket"] as const,
  /** Inbox index: tickets without a customer and not closed, by last activity (ms). */
  inboxEntry: (activityMs: number, ticketId: number) => ["inbox", activityMs, ticketId] as const,
  inbox: () => ["inbox"] as const,
  /** Number of active inbox tickets (no customer, status not resolved/closed); KvU64. */
  inboxActiveCount: () => ["count", "inbox_active"] as const,
  /** How many active inbox tickets this user has read since their last activity; KvU64. */
  userReadActiveCount: (userId: string) => ["count", "user_read_active", userId] as const,
  /** Present while the user has seen the ticket's latest activity. */
  ticketReader: (ticketId: number, userId: string) => ["ticket_reader", ticketId, userId] as const,
  ticketReaders: (ticketId: number) => ["ticket_reader", ticketId] as const,
  /** Addresses that took part in a ticket (threading trust rule). */
  ticketParticipant: (ticketId: number, email: string) =>
    ["ticket_participant", ticketId, email] as const,

  message: (ticketId: number, messageId: string) => ["message", ticketId, messageId] as const,
  messages: (ticketId: number) => ["message", ticketId] as const,
  messageTicket: (messageId: string) => ["message_ticket", messageId] as const,
  /** RFC 5322 Message-ID (lowercased, with brackets) → ticket, for threading. */
  threadIndex: (rfcMessageId: string) => ["thread_msgid", rfcMessageId] as const,
  /** Dedupe key of an imported mail → where it went. */
  dedupe: (hash: string) => ["dedupe", hash] as const,

  attachment: (id: string) => ["attachment", id] as const,
  blobChunk: (blobId: string, index: number) => ["blob", blobId, index] as const,
  blobChunks: (blobId: string) => ["blob", blobId] as const,

  settings: (name: "imap" | "smtp" | "oauth2") => ["settings", name] as const,
  oauthState: (state: string) => ["oauth_state", state] as const,
  pollLease: () => ["lease", "poll"] as const,
  lastPoll: () => ["poll", "last"] as const,
  failedMail: (id: string) => ["failed_mail", id] as const,
  failedMails: () => ["failed_mail"] as const,
  /** UIDs marked \Seen because MOVE was refused: never import them again. */
  seenUid: (mailbox: string, uidValidity: string, uid: number) =>
    ["seen_uid", mailbox, uidValidity, uid] as const,
  outbox: (messageId: string) => ["outbox", messageId] as const,
  outboxAll: () => ["outbox"] as const,

  liveInbox: () => ["live", "inbox"] as const,
  liveTicket: (ticketId: number) => ["live", "ticket", ticketId] as const,
  livePresence: (ticketId: number) => ["live", "presence", ticketId] as const,
  /** Change feed of the Inbox for the live hub: ULID key → {ticket_id, reason}; expires. */
  liveInboxChange: (id: string) => ["live", "inbox_changes", id] as const,
  liveInboxChanges: () => ["live", "inbox_changes"] as const,
  presence: (ticketId: number, userId: string, connId: string) =>
    ["presence", ticketId, userId, connId] as const,
  presences: (ticketId: number) => ["presence", ticketId] as const,
};
