import { APP_CSS } from "./app-css.js";
import { APP_JS } from "./app-js.js";
import { INDEX_HTML } from "./index-html.js";

/** The console's whole front end, compiled into the bundle: nothing is fetched from anywhere else. */
export const ASSETS: ReadonlyMap<string, { readonly type: string; readonly body: string }> = new Map([
  ["/", { type: "text/html; charset=utf-8", body: INDEX_HTML }],
  ["/app.js", { type: "text/javascript; charset=utf-8", body: APP_JS }],
  ["/app.css", { type: "text/css; charset=utf-8", body: APP_CSS }],
]);
