import { ChannelEnum, MaskedPii, maskIdNumber, type Channel } from "@hub/kit";
import { GraphQLDateTime } from "graphql-scalars";
import { Field, ObjectType, UseMiddleware } from "type-graphql";
import { CardEventType, CardStatus } from "./enums.js";

// Named CardHistoryEntry in the schema: contract v3 gives `CardEvent` to the status-change feed.
@ObjectType("CardHistoryEntry", {
  description:
    "One recorded change of a card: who, which channel, when, status before and after, agent if any.",
})
export class CardEvent {
  @Field(() => GraphQLDateTime, { description: "When the change happened." })
  at!: Date;

  @Field(() => CardEventType, { description: "What happened." })
  type!: CardEventType;

  @Field(() => ChannelEnum, { description: "The channel through which the change was made." })
  channel!: Channel;

  @Field(() => CardStatus, {
    nullable: true,
    description: "Status before the change (null when the card was created by it).",
  })
  fromStatus!: CardStatus | null;

  @Field(() => CardStatus, { description: "Status after the change." })
  toStatus!: CardStatus;

  @Field(() => String, {
    description: "The operator or system that made the change (the token subject).",
  })
  actor!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "Identity number of the agent who acted for the cardholder with a power of attorney (R-ID-2); masked unless pii:read.",
  })
  @UseMiddleware(MaskedPii(maskIdNumber))
  agentIdNumber!: string | null;
}
