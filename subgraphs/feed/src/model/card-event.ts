import { ChannelEnum, type Channel } from "@hub/kit";
import { GraphQLDateTime } from "graphql-scalars";
import { Directive, Field, ID, ObjectType } from "type-graphql";
import type { CardEventType } from "../rules/card-event-types.js";
import { CardEventTypeEnum } from "./card-event-type.js";

@Directive('@key(fields: "id")')
@ObjectType({
  description:
    "A physical social security card, with its social security and financial functions (R-CARD-1).",
})
export class Card {
  @Field(() => ID, { description: "Opaque, stable id of the card." })
  id!: string;
}

@ObjectType({
  description:
    "One committed change of a card, its passwords or its bank account, as the status-change feed reports it (contract v3).",
})
export class CardEvent {
  @Field(() => ID, {
    description:
      "Stable id of the change: the same on every delivery and reconnect (deduplicate on it).",
  })
  eventId!: string;

  @Field(() => String, {
    description:
      "Opaque position of this event in the log: pass it as `after` to resume right after it.",
  })
  cursor!: string;

  @Field(() => CardEventTypeEnum, { description: "What changed." })
  type!: CardEventType;

  @Field(() => GraphQLDateTime, { description: "When the change happened." })
  occurredAt!: Date;

  @Field(() => ChannelEnum, { description: "The channel through which the change was made." })
  channel!: Channel;

  @Field(() => String, {
    nullable: true,
    description:
      "Status of what changed before the change, as of the event: the card's CardStatus for a card's change, the PasswordState for a password's, the BankAccountStatus for a bank account's. Null when the change created it.",
  })
  statusBefore!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Status of what changed after the change, as of the event (see statusBefore).",
  })
  statusAfter!: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      "Id of the card's holder (the person whose electronic-card password it is, for ELECTRONIC_PASSWORD_LOCKED).",
  })
  personId!: string | null;

  @Field(() => Card, {
    nullable: true,
    description:
      "The card as it is now, resolved like any Card (what the caller may see of it follows its scopes, as everywhere). Null for ELECTRONIC_PASSWORD_LOCKED: the electronic-card password is the person's, not one card's (R-PWD-5).",
  })
  card!: Card | null;
}

@ObjectType({ description: "A page of the status-change log (cardEventLog)." })
export class CardEventPage {
  @Field(() => [CardEvent], { description: "The events of this page, in log order." })
  events!: CardEvent[];

  @Field(() => String, {
    nullable: true,
    description:
      "Cursor of the page's last event: pass it as `after` for the next page. The `after` given when the page is empty.",
  })
  endCursor!: string | null;

  @Field(() => Boolean, { description: "More events follow this page." })
  hasMore!: boolean;
}
