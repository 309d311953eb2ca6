import { randomInt, randomUUID } from "node:crypto";
import type { EventHandler, HubEvent, Outbox } from "@hub/kit";
import type { ClientSession } from "mongodb";
import type { BankAccountStatus } from "../model/enums.js";
import { accountNumberFor, accountStatusAfter } from "../rules/account-rules.js";
import type { CardMirror } from "./bank-account-document.js";
import type { BankAccountRepository } from "./bank-account-repository.js";

const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join("");

/** Tells the cards subgraph the account's new status (it keeps a mirror for R-DUP-2). */
export async function announceStatus(
  outbox: Outbox,
  session: ClientSession,
  event: Pick<HubEvent, "actor" | "channel">,
  account: { cardId: string; status: BankAccountStatus; version: number },
  now: Date,
): Promise<void> {
  await outbox.add(
    session,
    {
      type: "BankAccountStatusChanged",
      // The version lets the cards subgraph's mirror ignore an older status arriving late.
      payload: { cardId: account.cardId, status: account.status, accountVersion: account.version },
      actor: event.actor,
      channel: event.channel,
      occurredAt: now,
    },
    ["cards"],
  );
}

/** The card as CardIssued describes it; null for an event from before it carried its state. */
function cardMirrorOf(event: HubEvent): CardMirror | null {
  const { status, expiresAt, cardVersion } = event.payload;
  if (typeof status !== "string" || typeof expiresAt !== "string") return null;
  return { status, expiresAt: new Date(expiresAt), version: Number(cardVersion ?? 1) };
}

/** Effects of card events on bank accounts (issue #5: issued → account opened; lost/cancelled → status). */
export function bankEventHandlers(
  accounts: BankAccountRepository,
  outbox: Outbox,
): Record<string, EventHandler> {
  return {
    CardIssued: async (event, session) => {
      const cardId = String(event.payload["cardId"]);
      const bank = String(event.payload["issuingBank"]);
      const now = new Date(event.occurredAt);
      // Opened once per card, even when the event comes again after its inbox record was swept.
      if (await accounts.accounts.findOne({ cardId }, { session })) return;
      await accounts.accounts.insertOne(
        {
          _id: `b_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
          cardId,
          bank,
          accountNumber: accountNumberFor(bank, digits),
          status: "NOT_ACTIVATED",
          activatedAt: null,
          card: cardMirrorOf(event),
          version: 1,
          updatedAt: now,
        },
        { session },
      );
      await announceStatus(
        outbox,
        session,
        event,
        { cardId, status: "NOT_ACTIVATED", version: 1 },
        now,
      );
    },
    CardStatusChanged: async (event, session) => {
      const cardId = String(event.payload["cardId"]);
      const account = await accounts.accounts.findOne({ cardId }, { session });
      if (!account) return;
      const cardVersion = Number(event.payload["cardVersion"] ?? 0);
      // Only what is newer than what the bank knows: a later change of the card may arrive first.
      if (account.card && account.card.version >= cardVersion) return;
      const card = account.card
        ? { ...account.card, status: String(event.payload["toStatus"]), version: cardVersion }
        : null;
      const next = accountStatusAfter(account.status, String(event.payload["change"]));
      const now = new Date(event.occurredAt);
      await accounts.accounts.updateOne(
        { _id: account._id },
        {
          $set: { status: next, card, updatedAt: now },
          $inc: { version: next === account.status ? 0 : 1 },
        },
        { session },
      );
      if (next !== account.status)
        await announceStatus(
          outbox,
          session,
          event,
          { cardId, status: next, version: account.version + 1 },
          now,
        );
    },
  };
}
