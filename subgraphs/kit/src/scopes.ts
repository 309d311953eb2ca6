/** Token scopes (CONTRACT.md "Who is calling"). */
export const SCOPES = [
  "cards:read",
  "persons:write",
  "cards:write",
  "passwords:write",
  "bank:write",
  "pii:read",
  "schema:read",
  /** The status-change feed: `cardEvents` and `cardEventLog` (contract v3). */
  "events:read",
  /** Registering and managing the channel's own webhooks (contract v3). */
  "webhooks:write",
] as const;

export type Scope = (typeof SCOPES)[number];
