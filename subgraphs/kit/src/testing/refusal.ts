import type { HubError } from "../errors.js";

/** Tests only: the error `check` throws, or null when it returns. */
export function refusal(check: () => unknown): HubError | null {
  try {
    check();
    return null;
  } catch (error) {
    return error as HubError;
  }
}
