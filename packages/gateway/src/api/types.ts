import type { JsonValue } from "../json.js";
import type { Principal } from "../principal.js";

/** An authenticated request, after the HTTP edge has checked size, media type and JSON. */
export interface ApiRequest {
  readonly method: string;
  /** The URL path, without the query, e.g. `/v1/changes/c42/approve`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly principal: Principal;
  /** The parsed JSON body, or undefined when the request had none. */
  readonly body: JsonValue | undefined;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: JsonValue;
}

/** The routes behind authentication; the HTTP edge calls it once per authenticated request. */
export type ApiHandler = (request: ApiRequest) => Promise<ApiResponse>;
