import {
  changeOneDocument,
  documentKey,
  HubError,
  type Caller,
  type EffectScope,
  type NewEvent,
  type Outbox,
} from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";
import {
  accountStatusFor,
  cardStatusOf,
  type BankState,
  type CardAsKnown,
} from "../rules/account-rules.js";
import type { BankAccountDocument } from "../store/bank-account-document.js";
import {
  toBankAccountRecord,
  type BankAccountRecord,
  type BankAccountRepository,
} from "../store/bank-account-repository.js";
import { statusAnnouncement } from "./account-events.js";

type Agent = { idNumber: string; name: string; powerOfAttorneyRef: string } | null;

/**
 * Bank-account mutations: rule → one version-guarded update of the account carrying its events and
 * idempotency record (kit changeOneDocument; no transaction).
 */
export class BankCommands {
  constructor(
    private readonly accounts: BankAccountRepository,
    private readonly outbox: Outbox,
  ) {}

  async change(
    operation: "activateFinancialFunction" | "cancelBankAccount",
    cardId: string,
    /** The bank's decision on the account's status and the card as known: its new own state. */
    rule: (current: BankAccountStatus, card: CardAsKnown | null, now: Date) => BankState,
    meta: { caller: Caller; now: Date; key: string; agent?: Agent; effects: EffectScope | null },
  ): Promise<BankAccountRecord> {
    const actor = { actor: meta.caller.sub, channel: meta.caller.channel };
    const { account } = await changeOneDocument<
      BankAccountDocument,
      { account: BankAccountRecord & Record<string, unknown> }
    >({
      collection: this.accounts.accounts,
      outbox: this.outbox,
      effects: meta.effects,
      filter: { cardId },
      key: documentKey(meta.caller.channel, operation, meta.key, {
        cardId,
        agent: meta.agent ?? null,
      }),
      notFound: () =>
        new HubError("NOT_FOUND", `No bank account is on record for the card "${cardId}".`),
      decide: (account) => {
        // The card as the bank last heard of it (its newest version): the rule decides on it, and
        // the account's status is derived from the bank's new state and it (R-BANK-3).
        const bankState = rule(account.status, account.card ?? null, meta.now);
        const next = accountStatusFor(bankState, cardStatusOf(account));
        const version = account.version + 1;
        const personId = account.card?.personId ?? null;
        const change = { fromStatus: account.status, personId };
        const events: NewEvent[] = [
          statusAnnouncement(actor, { cardId, status: next, version, ...change }, meta.now),
        ];
        if (operation === "activateFinancialFunction")
          // R-BANK-2: the bank tells the card management centre, which enables the social function.
          events.push({
            type: "FinancialFunctionActivated",
            // R-ID-2: the agent is recorded on the card's event this causes too.
            payload: {
              cardId,
              agent: meta.agent ?? null,
              accountVersion: version,
              ...change,
              status: next,
            },
            ...actor,
            occurredAt: meta.now,
          });
        return {
          // A replay answers the account as it was after this call (CONTRACT.md "Writes").
          result: {
            account: toBankAccountRecord({
              ...account,
              status: next,
              version,
            }) as BankAccountRecord & Record<string, unknown>,
          },
          set: {
            bankState,
            status: next,
            updatedAt: meta.now,
            ...(bankState === "ACTIVE" ? { activatedAt: meta.now } : {}),
          },
          events,
        };
      },
    });
    return account;
  }
}
