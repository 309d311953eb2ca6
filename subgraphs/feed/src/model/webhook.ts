import { GraphQLDateTime } from "graphql-scalars";
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import type { CardEventType } from "../rules/card-event-types.js";
import type {
  DeliveryDocument,
  WebhookDeliveryStatus,
  WebhookDocument,
  WebhookStatus,
} from "../webhooks/webhook-store.js";
import { CardEventTypeEnum } from "./card-event-type.js";

export const WebhookStatusEnum = {
  ACTIVE: "ACTIVE",
  FAILING: "FAILING",
  DISABLED: "DISABLED",
} as const;
export const WebhookDeliveryStatusEnum = {
  DELIVERED: "DELIVERED",
  RETRYING: "RETRYING",
  FAILED: "FAILED",
} as const;

registerEnumType(WebhookStatusEnum, {
  name: "WebhookStatus",
  description: "Whether a webhook delivers (contract v3).",
  valuesConfig: {
    ACTIVE: { description: "Delivers every new event of its types." },
    FAILING: {
      description:
        "A delivery failed for 24 hours: that event was skipped (read it with cardEventLog) and the following ones are tried about once an hour. The first delivered event makes it ACTIVE again.",
    },
    DISABLED: {
      description:
        "Delivers nothing more: its channel disabled it, or its receiver answered 410 Gone. Register a new webhook to receive events again.",
    },
  },
});

registerEnumType(WebhookDeliveryStatusEnum, {
  name: "WebhookDeliveryStatus",
  description: "How one event's delivery to a webhook stands (contract v3).",
  valuesConfig: {
    DELIVERED: { description: "The receiver answered 2xx within 15 seconds." },
    RETRYING: {
      description: "Not delivered yet: tried again with exponential backoff for up to 24 hours.",
    },
    FAILED: {
      description:
        "Given up: not delivered within 24 hours (the webhook is FAILING), the receiver answered 410 Gone, or the webhook was disabled. The event stays in cardEventLog for the log's retention.",
    },
  },
});

@ObjectType({
  description:
    "A channel's webhook: status changes of cards are POSTed to its URL, signed per the Standard Webhooks specification (contract v3).",
})
export class Webhook {
  @Field(() => ID, { description: "Opaque, stable id of the webhook." })
  id!: string;

  @Field(() => String, {
    description: "Where events are POSTed (https; http only in development).",
  })
  url!: string;

  @Field(() => [CardEventTypeEnum], {
    nullable: true,
    description: "Only events of these types are delivered; null for every type.",
  })
  types!: CardEventType[] | null;

  @Field(() => WebhookStatusEnum, { description: "Whether it delivers." })
  status!: WebhookStatus;

  @Field(() => GraphQLDateTime, { description: "When it was registered." })
  createdAt!: Date;
}

const SECRET =
  "The signing secret (`whsec_` and base64) for the Standard Webhooks libraries' verify. Shown only in this answer: store it where the receiver verifies signatures.";

@ObjectType({ description: "Result of registerWebhook: the webhook and its signing secret." })
export class RegisterWebhookPayload {
  @Field(() => Webhook, { description: "The webhook, ACTIVE." })
  webhook!: Webhook;

  @Field(() => String, { description: SECRET })
  secret!: string;
}

@ObjectType({
  description:
    "Result of rotateWebhookSecret: the new secret. The previous one keeps signing beside it for 24 hours (each delivery carries both signatures), so the receiver can switch without missing one.",
})
export class RotateWebhookSecretPayload {
  @Field(() => Webhook, { description: "The webhook." })
  webhook!: Webhook;

  @Field(() => String, { description: SECRET })
  secret!: string;
}

@ObjectType({ description: "Result of disableWebhook." })
export class DisableWebhookPayload {
  @Field(() => Webhook, { description: "The webhook, now DISABLED." })
  webhook!: Webhook;
}

@ObjectType({ description: "One event's delivery to a webhook (all its attempts)." })
export class WebhookDelivery {
  @Field(() => ID, {
    description: "The event's id: the `webhook-id` header of every attempt, and CardEvent.eventId.",
  })
  eventId!: string;

  @Field(() => WebhookDeliveryStatusEnum, { description: "How the delivery stands." })
  status!: WebhookDeliveryStatus;

  @Field(() => Int, { description: "Attempts made so far." })
  attempts!: number;

  @Field(() => GraphQLDateTime, { description: "When it was first attempted." })
  firstAttemptAt!: Date;

  @Field(() => GraphQLDateTime, { nullable: true, description: "When it was last attempted." })
  lastAttemptAt!: Date | null;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "When it is attempted next; null once it is DELIVERED or FAILED.",
  })
  nextAttemptAt!: Date | null;

  @Field(() => Int, {
    nullable: true,
    description: "The receiver's HTTP status at the last attempt; null when it did not answer.",
  })
  responseStatus!: number | null;
}

@InputType({ description: "A webhook to register for the caller's channel." })
export class RegisterWebhookInput {
  @Field(() => String, {
    description:
      "Where to POST events: an https URL whose host resolves to public addresses (in development also http and loopback); BAD_USER_INPUT otherwise, naming what is refused.",
  })
  url!: string;

  @Field(() => [CardEventTypeEnum], {
    nullable: true,
    description: "Only events of these types; every type when absent or empty.",
  })
  types?: CardEventType[] | null;
}

@InputType({ description: "One of the caller's channel's webhooks." })
export class WebhookIdInput {
  @Field(() => ID, { description: "The webhook's id (NOT_FOUND for another channel's)." })
  webhookId!: string;
}

/** A stored webhook as the API shows it: field by field, never the secrets. */
export function toWebhook(doc: WebhookDocument): Webhook {
  return {
    id: doc._id,
    url: doc.url,
    types: doc.types,
    status: doc.status,
    createdAt: doc.createdAt,
  };
}

export function toWebhookDelivery(doc: DeliveryDocument): WebhookDelivery {
  return {
    eventId: doc.eventId,
    status: doc.status,
    attempts: doc.attempts,
    firstAttemptAt: doc.firstAttemptAt,
    lastAttemptAt: doc.lastAttemptAt,
    nextAttemptAt: doc.nextAttemptAt,
    responseStatus: doc.responseStatus,
  };
}
