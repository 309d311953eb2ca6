import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { BankAccountsContext } from "../context.js";
import { BankAccount, Card } from "../model/bank-account.js";
import type { BankAccountRecord } from "../store/bank-account-repository.js";

@Resolver(() => Card)
export class CardBankAccountResolver {
  @FieldResolver(() => BankAccount, {
    nullable: true,
    description:
      "The bank account of the card's financial function; null if the bank has none on record.",
  })
  bankAccount(
    @Root() card: Card,
    @Ctx() ctx: BankAccountsContext,
  ): Promise<BankAccountRecord | null> {
    return ctx.loaders.accountByCardId.load(card.id);
  }
}
