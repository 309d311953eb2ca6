import type { HubEvent, NewEvent } from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";

/**
 * Tells the cards subgraph the account's new status (it keeps a mirror for R-DUP-2), and the
 * status-change feed the change (with the status before and the card's holder).
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
): NewEvent<"BankAccountStatusChanged"> {
  return {
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
