import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "../auth/caller.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import { HubError } from "../errors.js";
import { errorBody, sendJson } from "./json-response.js";

/**
 * The caller whose bearer token `verifier` accepts; null once `response` has answered 401 (a
 * token it refuses). Any other failure is thrown.
 */
export async function verifiedCaller(
  verifier: TokenVerifier,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<Caller | null> {
  try {
    return await verifier(request.headers.authorization);
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    sendJson(response, 401, errorBody(error));
    return null;
  }
}
