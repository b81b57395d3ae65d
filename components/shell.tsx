/**
 * The signed-in page frame: left sidebar (brand, Inbox with its live badge, Customers, and for
 * admins Settings and Users; the live-connection mark; the user and Sign out) and the content.
 * @module
 */
import type { ComponentChildren } from "preact";
import type { PublicUser } from "../lib/db/users.ts";
import type { InboxCounts } from "../lib/db/inbox.ts";
import InboxBadge from "../islands/inbox_badge.tsx";
import LiveStatus from "../islands/live_status.tsx";
import { Icon } from "./icons.tsx";
import { Avatar } from "./bits.tsx";

/** Props of `Shell`. */
export interface ShellProps {
  user: PublicUser;
  /** Current path, to mark the active entry. */
  path: string;
  counts: InboxCounts | null;
  children: ComponentChildren;
}

function NavLink(
  props: { href: string; path: string; icon: string; label: string; children?: ComponentChildren },
) {
  const active = props.path === props.href || props.path.startsWith(props.href + "/");
  return (
    <li>
      <a
        href={props.href}
        class={`nav-link${active ? " is-active" : ""}`}
        aria-current={active ? "page" : undefined}
      >
        <Icon name={props.icon} />
        <span class="nav-label">{props.label}</span>
        {props.children}
      </a>
    </li>
  );
}

/** Sidebar + main content. */
export function Shell(props: ShellProps) {
  const { user, path } = props;
  const helpdesk = user.role === "admin" || user.helpdesk_enabled;
  return (
    <div class="shell">
      <a class="skip-link" href="#main">Skip to content</a>
      <nav class="sidebar" aria-label="Main">
        <a href="/inbox" class="brand">
          <span class="brand-mark" aria-hidden="true">W</span>
          <span class="brand-name">WarmDesk</span>
        </a>
        <ul class="nav-list">
          {helpdesk
            ? (
              <>
                <NavLink href="/inbox" path={path} icon="inbox" label="Inbox">
                  <InboxBadge
                    unread={props.counts?.unread ?? null}
                    total={props.counts?.total ?? null}
                  />
                </NavLink>
                <NavLink href="/customers" path={path} icon="customers" label="Customers" />
              </>
            )
            : null}
          {user.role === "admin"
            ? (
              <>
                <li class="nav-heading">Admin</li>
                <NavLink href="/admin/settings" path={path} icon="settings" label="Settings" />
                <NavLink href="/admin/users" path={path} icon="users" label="Users" />
              </>
            )
            : null}
        </ul>
        <div class="sidebar-foot">
          {helpdesk ? <LiveStatus /> : null}
          <div class="me">
            <Avatar name={user.name || user.email} id={user.id} size="sm" />
            <span class="me-text">
              <span class="me-name">{user.name}</span>
              <span class="me-email">{user.email}</span>
            </span>
          </div>
          <form method="post" action="/logout" class="signout">
            <button type="submit" class="button button-quiet button-small">
              <Icon name="logout" /> Sign out
            </button>
          </form>
        </div>
      </nav>
      <main id="main" class="content" tabIndex={-1}>
        {props.children}
      </main>
    </div>
  );
}
