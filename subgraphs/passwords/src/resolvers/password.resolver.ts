import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { PasswordsContext } from "../context.js";
import { CardPassword } from "../model/card-password.js";
import { ElectronicCardPasswordStatus } from "../model/electronic-card-password.js";
import { Card, Person } from "../model/entities.js";
import { cardPasswordView, electronicPasswordView } from "../rules/lock-rules.js";

@Resolver(() => Card)
export class CardPasswordResolver {
  @FieldResolver(() => CardPassword, {
    nullable: true,
    description:
      "The card's social security password state (R-PWD-1..3). Null only when the passwords service is unavailable (an error says so).",
  })
  async password(@Root() card: Card, @Ctx() ctx: PasswordsContext): Promise<CardPassword> {
    return cardPasswordView(await ctx.loaders.cardPasswordByCardId.load(card.id));
  }
}

@Resolver(() => Person)
export class ElectronicPasswordResolver {
  @FieldResolver(() => ElectronicCardPasswordStatus, {
    nullable: true,
    description:
      "The person's electronic-card password, shared by every channel (R-PWD-4). Null only when the passwords service is unavailable (an error says so).",
  })
  async electronicCardPassword(
    @Root() person: Person,
    @Ctx() ctx: PasswordsContext,
  ): Promise<ElectronicCardPasswordStatus> {
    const view = electronicPasswordView(
      await ctx.loaders.electronicPasswordByPersonId.load(person.id),
      ctx.now(),
    );
    return { state: view.state, lockedUntil: view.lockedUntil };
  }
}
