import { define } from "../lib/state.ts";
import { errorResponse, errorView } from "../lib/http/errors.ts";

export const handler = define.handlers((ctx) => errorResponse(ctx));

export default define.page((props) => {
  const v = errorView(props.error);
  return (
    <main class="error-page">
      <h1>{v.status}</h1>
      <p>{v.message}</p>
      <p>
        <a href="/inbox">Back to the Inbox</a>
      </p>
    </main>
  );
});
