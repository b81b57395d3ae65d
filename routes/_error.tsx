import { define } from "../lib/state.ts";
import { errorResponse, errorView } from "../lib/http/errors.ts";
import { Shell } from "../components/shell.tsx";
import { navCounts } from "../components/nav.ts";

export const handler = define.handlers((ctx) => errorResponse(ctx));

const TITLES: Record<number, string> = {
  400: "Bad request",
  403: "Not allowed",
  404: "Not found",
  405: "Not allowed",
  429: "Too many requests",
  500: "Something went wrong",
};

/** Error pages: inside the sidebar frame for signed-in users, a plain card otherwise. */
export default define.page((props) => {
  const v = errorView(props.error);
  const user = props.state.user;
  const noHelpdesk = v.code === "helpdesk_disabled";
  const title = noHelpdesk ? "No helpdesk access" : TITLES[v.status] ?? "Error";
  const body = (
    <section class="error-panel" aria-labelledby="error-title">
      <p class="error-code">Error {v.status}</p>
      <h1 id="error-title">{title}</h1>
      {noHelpdesk
        ? (
          <p>
            Your account{user
              ? (
                <>
                  {" "}(<strong>{user.email}</strong>)
                </>
              )
              : null}{" "}
            has no access to the helpdesk. Ask an administrator to turn on helpdesk access for you.
          </p>
        )
        : <p>{v.message}</p>}
      <p class="error-actions">
        {user && !noHelpdesk ? <a class="button" href="/inbox">Back to the Inbox</a> : null}
        {!user ? <a class="button" href="/login">Sign in</a> : null}
      </p>
    </section>
  );
  if (!user) return <main class="auth-page">{body}</main>;
  return (
    <Shell user={user} path={props.url.pathname} counts={navCounts(props.state)}>
      <div class="page page-narrow">{body}</div>
    </Shell>
  );
});
