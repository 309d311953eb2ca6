import { ChannelEnum, type Channel } from "@hub/kit";
import { GraphQLDateTime } from "graphql-scalars";
import { Directive, Field, ID, ObjectType } from "type-graphql";
import { CardStatus, ElectronicCardAvailability } from "./enums.js";

@ObjectType({
  description:
    "The card's social security function (medical, pension, employment services; R-CARD-1).",
})
export class SocialSecurityFunction {
  @Field(() => Boolean, { description: "Whether the function has been enabled (R-CARD-3)." })
  enabled!: boolean;

  @Field(() => GraphQLDateTime, { nullable: true, description: "When it was first enabled." })
  enabledAt!: Date | null;

  @Field(() => ChannelEnum, {
    nullable: true,
    description: "The channel through which it was first enabled.",
  })
  channel!: Channel | null;

  @Field(() => Boolean, {
    description:
      "True when the card was collected more than 6 months ago and is still not enabled (R-CARD-5): a prompt for channels, not a penalty.",
  })
  activationOverdue!: boolean;
}

@ObjectType({
  description: "An electronic social security card, bound to a physical card (R-ECARD-1).",
})
export class ElectronicCard {
  @Field(() => ChannelEnum, {
    description: "The channel that issued it (app, WeChat, Alipay, national platform).",
  })
  channel!: Channel;

  @Field(() => GraphQLDateTime, { description: "When it was issued, after face verification." })
  issuedAt!: Date;

  @Field(() => ElectronicCardAvailability, {
    description: "What it can be used for now, following the physical card (R-ECARD-2).",
  })
  availability!: ElectronicCardAvailability;
}

@Directive('@key(fields: "id")')
@ObjectType({
  description:
    "A physical social security card, with its social security and financial functions (R-CARD-1).",
})
export class Card {
  @Field(() => ID, { description: "Opaque, stable id of the card." })
  id!: string;

  @Field(() => String, {
    description: "The card number printed on the card (a new number on every replacement).",
  })
  number!: string;

  @Field(() => String, {
    description: "2-digit GB/T 2260 code of the province that issued the card (e.g. 11 Beijing).",
  })
  province!: string;

  @Field(() => String, {
    description:
      "The partner bank whose account is loaded on the card and whose logo is on its face.",
  })
  issuingBank!: string;

  @Field(() => CardStatus, {
    description: "Application status (R-CARD-2); EXPIRED is derived from expiresAt.",
  })
  status!: CardStatus;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description:
      "When the holder collected the card; null while not collected. Not collecting it does not affect paying contributions (R-CARD-6).",
  })
  collectedAt!: Date | null;

  @Field(() => GraphQLDateTime, { description: "When the card was issued." })
  issuedAt!: Date;

  @Field(() => GraphQLDateTime, {
    description: "End of validity: 10 years after issue (R-CARD-7).",
  })
  expiresAt!: Date;

  @Field(() => Boolean, {
    description:
      "True within 60 days before expiry: a replacement may be issued with the holder's consent (R-CARD-7).",
  })
  renewalDue!: boolean;

  @Field(() => String, {
    description:
      "A plain-language note on what the status means for the holder. Whether the card is collected or enabled never affects paying contributions (R-CARD-6).",
  })
  statusNote!: string;
}
