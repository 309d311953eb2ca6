import type { ServerResponse } from "node:http";
import type { HubError } from "../errors.js";

/** Answers `body` as JSON with `status`. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify(body));
}

/** A GraphQL error answer carrying one error: its message and code. */
export function errorBody(error: HubError) {
  return { errors: [{ message: error.message, extensions: { code: error.code } }] };
}
