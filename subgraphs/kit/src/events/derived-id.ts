import { createHash } from "node:crypto";

/** The hub's namespace for derived event ids (a fixed random UUID's bytes). */
const NAMESPACE = Buffer.from("3b8f6a1c9d2e4f7a8b5c0d1e2f3a4b5c", "hex");

/**
 * An event id that follows from another event's id: a name-based UUID (RFC 9562 version 5) of
 * `purpose` and `sourceId`. An event made again because its cause was delivered again (a
 * redelivery, after the record of the first application has expired) gets the id it got the
 * first time, so the outbox stores it once and its receiver recognises it; one source id gives
 * another id for each purpose.
 */
export function derivedEventId(sourceId: string, purpose: string): string {
  const hash = createHash("sha1").update(NAMESPACE).update(`${purpose}\n${sourceId}`).digest();
  // Version 5 and the RFC's variant, as any reader of UUIDs expects of a name-based one.
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
