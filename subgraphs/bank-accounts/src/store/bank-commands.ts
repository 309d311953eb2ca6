import { HubError, runIdempotent, type Caller, type Outbox } from "@hub/kit";
import type { BankAccountStatus } from "../model/enums.js";
import type { BankAccountRepository } from "./bank-account-repository.js";
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
    rule: (current: BankAccountStatus) => BankAccountStatus,
    meta: { caller: Caller; now: Date; key: string; agent?: Agent },
  ): Promise<string> {
    const { accountId } = await runIdempotent({
      db: this.accounts.db,
      channel: meta.caller.channel,
      key: meta.key,
      operation,
      input: { cardId, agent: meta.agent ?? null },
      work: async (session) => {
        const account = await this.accounts.accounts.findOne({ cardId }, { session });
        if (!account)
          throw new HubError("NOT_FOUND", `No bank account is on record for the card "${cardId}".`);
        const next = rule(account.status);
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
          cardId,
          next,
          meta.now,
        );
        if (operation === "activateFinancialFunction") {
          // R-BANK-2: the bank tells the card management centre, which enables the social function.
          await this.outbox.add(
            session,
            {
              type: "FinancialFunctionActivated",
              payload: { cardId, agentIdNumber: meta.agent?.idNumber ?? null },
              actor: meta.caller.sub,
              channel: meta.caller.channel,
              occurredAt: meta.now,
            },
            ["cards"],
          );
        }
        return { accountId: account._id };
      },
    });
    return accountId;
  }
}
