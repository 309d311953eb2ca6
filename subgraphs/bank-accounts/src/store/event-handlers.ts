import { randomInt, randomUUID } from "node:crypto";
import {
  changeOneDocument,
  eventKey,
  insertNewDocument,
  isDuplicateKeyError,
  type EventHandler,
  type HubEvent,
  type NewEvent,
  type Outbox,
} from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";
import { accountNumberFor, accountStatusAfter } from "../rules/account-rules.js";
import type { BankAccountDocument, CardMirror } from "./bank-account-document.js";
import type { BankAccountRepository } from "./bank-account-repository.js";

const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join("");

/** Tells the cards subgraph the account's new status (it keeps a mirror for R-DUP-2). */
export function statusAnnouncement(
  event: Pick<HubEvent, "actor" | "channel">,
  account: { cardId: string; status: BankAccountStatus; version: number },
  now: Date,
): { event: NewEvent; destinations: readonly string[] } {
  return {
    event: {
      type: "BankAccountStatusChanged",
      // The version lets the cards subgraph's mirror ignore an older status arriving late.
      payload: { cardId: account.cardId, status: account.status, accountVersion: account.version },
      actor: event.actor,
      channel: event.channel,
      occurredAt: now,
    },
    destinations: ["cards"],
  };
}

/** The card as CardIssued describes it; null for an event from before it carried its state. */
function cardMirrorOf(event: HubEvent): CardMirror | null {
  const { status, expiresAt, cardVersion } = event.payload;
  if (typeof status !== "string" || typeof expiresAt !== "string") return null;
  return { status, expiresAt: new Date(expiresAt), version: Number(cardVersion ?? 1) };
}

/**
 * Effects of card events on bank accounts (issue #5: issued → account opened; lost/cancelled →
 * status). Each is one single-document write carrying the status announcement it causes.
 */
export function bankEventHandlers(
  accounts: BankAccountRepository,
  outbox: Outbox,
): Record<string, EventHandler> {
  return {
    CardIssued: async (event, effects) => {
      const cardId = String(event.payload["cardId"]);
      const bank = String(event.payload["issuingBank"]);
      const now = new Date(event.occurredAt);
      // Opened once per card (the unique card index settles a concurrent redelivery).
      if (await accounts.accounts.findOne({ cardId })) return;
      try {
        await insertNewDocument<BankAccountDocument, Record<string, never>>({
          collection: accounts.accounts,
          outbox,
          effects,
          document: {
            _id: `b_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
            cardId,
            bank,
            accountNumber: accountNumberFor(bank, digits),
            status: "NOT_ACTIVATED",
            activatedAt: null,
            card: cardMirrorOf(event),
            updatedAt: now,
          },
          key: null,
          now,
          result: {},
          events: [statusAnnouncement(event, { cardId, status: "NOT_ACTIVATED", version: 1 }, now)],
        });
      } catch (error) {
        if (isDuplicateKeyError(error)) return;
        throw error;
      }
    },
    CardStatusChanged: async (event, effects) => {
      const cardId = String(event.payload["cardId"]);
      if (!(await accounts.accounts.findOne({ cardId }))) return;
      const cardVersion = Number(event.payload["cardVersion"] ?? 0);
      const now = new Date(event.occurredAt);
      await changeOneDocument<BankAccountDocument, Record<string, never>>({
        collection: accounts.accounts,
        outbox,
        effects,
        filter: { cardId },
        key: eventKey(event.id),
        now,
        notFound: () => new Error(`no bank account for ${cardId}`),
        decide: (account) => {
          // Only what is newer than what the bank knows: a later change of the card may arrive first.
          if (account.card && account.card.version >= cardVersion) return { result: {} };
          const card = account.card
            ? { ...account.card, status: String(event.payload["toStatus"]), version: cardVersion }
            : null;
          const next = accountStatusAfter(account.status, String(event.payload["change"]));
          return {
            result: {},
            set: { status: next, card, updatedAt: now },
            events:
              next === account.status
                ? []
                : [
                    statusAnnouncement(
                      event,
                      { cardId, status: next, version: account.version + 1 },
                      now,
                    ),
                  ],
          };
        },
      });
    },
  };
}
