import { randomInt, randomUUID } from "node:crypto";
import {
  changeOneDocument,
  eventKey,
  insertNewDocument,
  isDuplicateKeyError,
  type EffectScope,
  type EventHandlers,
  type Outbox,
  type ReceivedEvent,
} from "@hub/kit";
import { accountNumberFor, accountStatusFor, bankStateOf } from "../rules/account-rules.js";
import type { BankAccountDocument, CardMirror } from "../store/bank-account-document.js";
import type { BankAccountRepository } from "../store/bank-account-repository.js";
import { statusAnnouncement } from "./account-events.js";

const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join("");

/** The card events the bank applies: both carry the card's absolute state at a version. */
type CardEvent = ReceivedEvent<"CardIssued"> | ReceivedEvent<"CardStatusChanged">;

/**
 * Card events on bank accounts (issued → account opened; lost/cancelled → status, R-BANK-3).
 * CardIssued and CardStatusChanged are applied alike, by the card state they carry, not by the
 * change they name: the account keeps the newest card version it has seen and derives its status
 * from it and the bank's own state (`accountStatusFor`). So any order, duplicate or gap converges
 * on what in-order delivery gives, and whichever event arrives first opens the account. Each
 * write is one single-document write carrying the status announcement it causes.
 */
export function bankEventHandlers(
  accounts: BankAccountRepository,
  outbox: Outbox,
): EventHandlers<"bank-accounts"> {
  /** Opens the card's account at the event's card state; false if it is open already. */
  const open = async (event: CardEvent, card: CardMirror, effects: EffectScope) => {
    const { cardId, issuingBank } = event.payload;
    const now = new Date(event.occurredAt);
    const status = accountStatusFor("NOT_ACTIVATED", card.status);
    try {
      await insertNewDocument<BankAccountDocument>({
        collection: accounts.accounts,
        outbox,
        effects,
        document: {
          _id: `b_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
          cardId,
          bank: issuingBank,
          accountNumber: accountNumberFor(issuingBank, digits),
          status,
          bankState: "NOT_ACTIVATED",
          activatedAt: null,
          card,
          updatedAt: now,
        },
        events: [
          statusAnnouncement(
            event,
            { cardId, status, version: 1, fromStatus: null, personId: card.personId ?? null },
            now,
            event,
          ),
        ],
      });
      return true;
    } catch (error) {
      // Another delivery of this card opened it meanwhile (the unique card index refused this
      // one): this event is applied to that account as an update instead.
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  };

  const applyCardState = async (event: CardEvent, effects: EffectScope): Promise<void> => {
    const { cardId, status, expiresAt, cardVersion, personId } = event.payload;
    const card: CardMirror = {
      status,
      expiresAt: new Date(expiresAt),
      version: cardVersion,
      personId,
    };
    if (!(await accounts.accounts.findOne({ cardId })) && (await open(event, card, effects)))
      return;
    const now = new Date(event.occurredAt);
    await changeOneDocument<BankAccountDocument, Record<string, never>>({
      collection: accounts.accounts,
      outbox,
      effects,
      filter: { cardId },
      // A redelivery of an applied event then waits for the announcement it caused.
      key: eventKey(event.id),
      notFound: () => new Error(`no bank account for ${cardId}`),
      decide: (account) => {
        // Only a newer card version: an older one may arrive late (or again), and must not undo.
        if (account.card && account.card.version >= card.version) return { result: {} };
        const bankState = bankStateOf(account);
        const next = accountStatusFor(bankState, card.status);
        const version = account.version + 1;
        return {
          result: {},
          set: { card, bankState, status: next, updatedAt: now },
          events:
            next === account.status
              ? []
              : [
                  statusAnnouncement(
                    event,
                    { cardId, status: next, version, fromStatus: account.status, personId },
                    now,
                    event,
                  ),
                ],
        };
      },
    });
  };

  return { CardIssued: applyCardState, CardStatusChanged: applyCardState };
}
