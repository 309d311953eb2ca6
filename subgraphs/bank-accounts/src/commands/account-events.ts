import { derivedEventId, type HubEvent, type NewEvent } from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";

/**
 * Tells the cards subgraph the account's new status (it keeps a mirror for R-DUP-2), and the
 * status-change feed the change (with the status before and the card's holder). One caused by a
 * card event (`cause`) has an id that follows from that event's: were the same cause applied twice
 * (a redelivery after its record expired), the announcement would be the same event, stored and
 * forwarded once. A caller's own change gets a fresh id from the outbox.
 */
export function statusAnnouncement(
  event: Pick<HubEvent, "actor" | "channel">,
  account: {
    cardId: string;
    status: BankAccountStatus;
    version: number;
    fromStatus: BankAccountStatus | null;
    personId: string | null;
  },
  now: Date,
  cause?: Pick<HubEvent, "id">,
): NewEvent<"BankAccountStatusChanged"> {
  return {
    ...(cause ? { id: derivedEventId(cause.id, "bank account status") } : {}),
    type: "BankAccountStatusChanged",
    // The version lets the cards subgraph's mirror ignore an older status arriving late.
    payload: {
      cardId: account.cardId,
      status: account.status,
      accountVersion: account.version,
      fromStatus: account.fromStatus,
      personId: account.personId,
    },
    actor: event.actor,
    channel: event.channel,
    occurredAt: now,
  };
}
