/** Token scopes (CONTRACT.md "Who is calling"). */
export const SCOPES = [
  "cards:read",
  "persons:write",
  "cards:write",
  "passwords:write",
  "bank:write",
  "pii:read",
  "schema:read",
] as const;

export type Scope = (typeof SCOPES)[number];
