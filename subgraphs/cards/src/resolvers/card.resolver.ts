import { Arg, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from "type-graphql";
import type { CardsContext } from "../context.js";
import { Card, ElectronicCard, SocialSecurityFunction } from "../model/card.js";
import { CardEvent } from "../model/card-event.js";
import { CardStatus } from "../model/enums.js";
import { Person } from "../model/person.js";
import { electronicCardAvailability } from "../rules/electronic-card.js";
import { statusNote } from "../rules/status-note.js";
import { effectiveStatus, isActivationOverdue, isRenewalDue } from "../rules/validity.js";
import type { CardRecord } from "../store/card-repository.js";

@Resolver(() => Card)
export class CardResolver {
  @Authorized("cards:read")
  @Query(() => Card, { nullable: true, description: "A card by id; null when unknown." })
  card(
    @Arg("id", () => ID, { description: "The card's id." }) id: string,
    @Ctx() ctx: CardsContext,
  ): Promise<CardRecord | null> {
    return ctx.loaders.cardById.load(id);
  }

  @FieldResolver(() => CardStatus)
  status(@Root() card: CardRecord, @Ctx() ctx: CardsContext): CardStatus {
    return effectiveStatus(card, ctx.now());
  }

  @FieldResolver(() => Boolean)
  renewalDue(@Root() card: CardRecord, @Ctx() ctx: CardsContext): boolean {
    return isRenewalDue(card, ctx.now());
  }

  @FieldResolver(() => String)
  statusNote(@Root() card: CardRecord, @Ctx() ctx: CardsContext): string {
    return statusNote(effectiveStatus(card, ctx.now()), card.collectedAt !== null);
  }

  @FieldResolver(() => SocialSecurityFunction, {
    description: "The social security function and its activation (R-CARD-3..5).",
  })
  socialSecurityFunction(
    @Root() card: CardRecord,
    @Ctx() ctx: CardsContext,
  ): SocialSecurityFunction {
    return { ...card.socialFunction, activationOverdue: isActivationOverdue(card, ctx.now()) };
  }

  @FieldResolver(() => ElectronicCard, {
    nullable: true,
    description: "The electronic card bound to this card, if one was issued (R-ECARD-1).",
  })
  electronicCard(@Root() card: CardRecord, @Ctx() ctx: CardsContext): ElectronicCard | null {
    if (!card.electronicCard) return null;
    return {
      ...card.electronicCard,
      availability: electronicCardAvailability(effectiveStatus(card, ctx.now())),
    };
  }

  @FieldResolver(() => Card, {
    nullable: true,
    description: "The earlier card this card replaced (R-CARD-9).",
  })
  replaces(@Root() card: CardRecord, @Ctx() ctx: CardsContext): Promise<CardRecord | null> | null {
    return card.replacesId ? ctx.loaders.cardById.load(card.replacesId) : null;
  }

  @FieldResolver(() => Card, {
    nullable: true,
    description: "The card that replaced this one (R-CARD-9).",
  })
  replacedBy(
    @Root() card: CardRecord,
    @Ctx() ctx: CardsContext,
  ): Promise<CardRecord | null> | null {
    return card.replacedById ? ctx.loaders.cardById.load(card.replacedById) : null;
  }

  @FieldResolver(() => Person, { description: "The cardholder." })
  holder(@Root() card: CardRecord): Person {
    return { id: card.personId };
  }

  @FieldResolver(() => [CardEvent], {
    description: "Every recorded change of the card, oldest first.",
  })
  async history(@Root() card: CardRecord, @Ctx() ctx: CardsContext): Promise<CardEvent[]> {
    const events = await ctx.loaders.eventsByCardId.load(card.id);
    return events.map((e) => ({
      at: e.at,
      type: e.type,
      channel: e.channel,
      fromStatus: e.fromStatus,
      toStatus: e.toStatus,
      actor: e.actor,
      agentIdNumber: e.agent?.idNumber ?? null,
    }));
  }
}
