import { randomInt, randomUUID } from "node:crypto";
import type { EventHandler, HubEvent, Outbox } from "@hub/kit";
import type { ClientSession } from "mongodb";
import type { BankAccountStatus } from "../model/enums.js";
import { accountNumberFor, accountStatusAfter } from "../rules/account-rules.js";
import type { BankAccountRepository } from "./bank-account-repository.js";

const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join("");

/** Tells the cards subgraph the account's new status (it keeps a mirror for R-DUP-2). */
export async function announceStatus(
  outbox: Outbox,
  session: ClientSession,
  event: Pick<HubEvent, "actor" | "channel">,
  cardId: string,
  status: BankAccountStatus,
  now: Date,
): Promise<void> {
  await outbox.add(
    session,
    {
      type: "BankAccountStatusChanged",
      payload: { cardId, status },
      actor: event.actor,
      channel: event.channel,
      occurredAt: now,
    },
    ["cards"],
  );
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
      await accounts.accounts.insertOne(
        {
          _id: `b_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
          cardId,
          bank,
          accountNumber: accountNumberFor(bank, digits),
          status: "NOT_ACTIVATED",
          activatedAt: null,
          version: 1,
          updatedAt: now,
        },
        { session },
      );
      await announceStatus(outbox, session, event, cardId, "NOT_ACTIVATED", now);
    },
    CardStatusChanged: async (event, session) => {
      const cardId = String(event.payload["cardId"]);
      const account = await accounts.accounts.findOne({ cardId }, { session });
      if (!account) return;
      const next = accountStatusAfter(account.status, String(event.payload["change"]));
      if (next === account.status) return;
      const now = new Date(event.occurredAt);
      await accounts.accounts.updateOne(
        { _id: account._id },
        { $set: { status: next, updatedAt: now }, $inc: { version: 1 } },
        { session },
      );
      await announceStatus(outbox, session, event, cardId, next, now);
    },
  };
}
