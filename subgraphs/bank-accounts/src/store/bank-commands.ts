import { HubError, runIdempotent, type Caller, type Outbox } from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";
import type { CardAsKnown } from "../rules/account-rules.js";
import {
  toBankAccountRecord,
  type BankAccountRecord,
  type BankAccountRepository,
} from "./bank-account-repository.js";
import { announceStatus } from "./event-handlers.js";

type Agent = { idNumber: string; name: string; powerOfAttorneyRef: string } | null;

/** Bank-account mutations: rule → version-guarded update → outbox, in one transaction. */
export class BankCommands {
  constructor(
    private readonly accounts: BankAccountRepository,
    private readonly outbox: Outbox,
  ) {}

  async change(
    operation: "activateFinancialFunction" | "cancelBankAccount",
    cardId: string,
    rule: (current: BankAccountStatus, card: CardAsKnown | null, now: Date) => BankAccountStatus,
    meta: { caller: Caller; now: Date; key: string; agent?: Agent },
  ): Promise<BankAccountRecord> {
    const { account } = await runIdempotent({
      db: this.accounts.db,
      channel: meta.caller.channel,
      key: meta.key,
      operation,
      input: { cardId, agent: meta.agent ?? null },
      work: async (session) => {
        const account = await this.accounts.accounts.findOne({ cardId }, { session });
        if (!account)
          throw new HubError("NOT_FOUND", `No bank account is on record for the card "${cardId}".`);
        // The card as of its last committed change: each change reaches this mirror before the
        // cards subgraph answers it (contract v2), in the card's version order.
        const next = rule(account.status, account.card ?? null, meta.now);
        const updated = await this.accounts.accounts.updateOne(
          { _id: account._id, version: account.version },
          {
            $set: {
              status: next,
              updatedAt: meta.now,
              ...(next === "ACTIVE" ? { activatedAt: meta.now } : {}),
            },
            $inc: { version: 1 },
          },
          { session },
        );
        if (updated.matchedCount === 0)
          throw new HubError(
            "CONFLICT",
            "The bank account was changed by a concurrent request; read it again and retry.",
          );
        await announceStatus(
          this.outbox,
          session,
          { actor: meta.caller.sub, channel: meta.caller.channel },
          { cardId, status: next, version: account.version + 1 },
          meta.now,
        );
        if (operation === "activateFinancialFunction") {
          // R-BANK-2: the bank tells the card management centre, which enables the social function.
          await this.outbox.add(
            session,
            {
              type: "FinancialFunctionActivated",
              // R-ID-2: the agent is recorded on the card's event this causes too.
              payload: { cardId, agent: meta.agent ?? null },
              actor: meta.caller.sub,
              channel: meta.caller.channel,
              occurredAt: meta.now,
            },
            ["cards"],
          );
        }
        // A replay answers the account as it was after this call (CONTRACT.md "Writes").
        return {
          account: toBankAccountRecord({
            ...account,
            status: next,
            version: account.version + 1,
          }) as BankAccountRecord & Record<string, unknown>,
        };
      },
    });
    return account;
  }
}
