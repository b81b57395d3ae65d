import { define } from "../lib/state.ts";

/** The document: every page's `<html>`, with the stylesheet and a title from `data.title`. */
export default define.page(({ Component, data }) => {
  const title = (data as { title?: unknown } | null | undefined)?.title;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{typeof title === "string" && title ? `${title} · WarmDesk` : "WarmDesk"}</title>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/css/app.css" />
      </head>
      <body>
        <Component />
      </body>
    </html>
  );
});
