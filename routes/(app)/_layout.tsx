import { define } from "../../lib/state.ts";
import { Shell } from "../../components/shell.tsx";
import { navCounts } from "../../components/nav.ts";

/** Every signed-in page sits in the sidebar frame. */
export default define.page(({ Component, state, url }) => {
  if (!state.user) return <Component />;
  return (
    <Shell user={state.user} path={url.pathname} counts={navCounts(state)}>
      <Component />
    </Shell>
  );
});
