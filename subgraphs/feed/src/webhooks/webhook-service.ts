import { HubError, type Channel } from "@hub/kit";
import type { CardEventType } from "../rules/card-event-types.js";
import type { CardEventSource } from "./card-event-source.js";
import { newSigningSecret, rotatedSecrets, type SecretCipher } from "./secrets.js";
import type { TargetPolicy } from "./target-policy.js";
import {
  newWebhookId,
  type DeliveryDocument,
  type WebhookDocument,
  type WebhookStore,
} from "./webhook-store.js";

/** Webhooks a channel may have that still deliver: each costs a lane and a reader of the log. */
export const MAX_LIVE_WEBHOOKS_PER_CHANNEL = 10;

/** A webhook with the secret that signs for it, shown to its channel this once. */
export interface WebhookWithSecret {
  webhook: WebhookDocument;
  secret: string;
}

export interface RegisterWebhook {
  url: string;
  /** Null or empty: every type (as the feed's `types` argument reads it). */
  types: readonly CardEventType[] | null;
}

/**
 * What the API does with webhooks, for the channel of the caller's token (the resolver checks the
 * scope): validation, secrets, ownership. The store filters every read by that channel.
 */
export class WebhookService {
  constructor(
    private readonly store: WebhookStore,
    private readonly cipher: SecretCipher,
    private readonly policy: TargetPolicy,
    private readonly source: Pick<CardEventSource, "newest">,
  ) {}

  /**
   * Registers a webhook for `channel`: its URL checked against the target policy (BAD_USER_INPUT
   * naming what is refused), a new secret. It delivers the events committed from now on (older
   * ones are in cardEventLog).
   */
  async register(channel: Channel, input: RegisterWebhook, now: Date): Promise<WebhookWithSecret> {
    await this.policy.check(input.url);
    if ((await this.store.countLive(channel)) >= MAX_LIVE_WEBHOOKS_PER_CHANNEL)
      throw new HubError(
        "BAD_USER_INPUT",
        `A channel may have at most ${MAX_LIVE_WEBHOOKS_PER_CHANNEL} webhooks that are not disabled; disable one first.`,
      );
    const id = newWebhookId();
    const secret = newSigningSecret();
    const types = input.types?.length ? [...new Set(input.types)] : null;
    const webhook: WebhookDocument = {
      _id: id,
      channel,
      url: input.url,
      types,
      status: "ACTIVE",
      secrets: { current: this.cipher.seal(secret, id), previous: null },
      createdAt: now,
      updatedAt: now,
      position: await this.source.newest(),
      disabledReason: null,
      version: 1,
    };
    await this.store.insert(webhook);
    return { webhook, secret };
  }

  /** A new secret; the one it replaces keeps signing beside it for 24 h (secrets.ts). */
  async rotate(channel: Channel, id: string, now: Date): Promise<WebhookWithSecret> {
    // Optimistic: read, seal, write if unchanged; a concurrent change is read again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const webhook = await this.store.ofChannel(channel, id);
      if (webhook.status === "DISABLED")
        throw new HubError(
          "INVALID_TRANSITION",
          "The webhook is DISABLED: register a new one instead of rotating its secret.",
        );
      const secret = newSigningSecret();
      const secrets = rotatedSecrets(webhook.secrets, this.cipher.seal(secret, id), now);
      const updated = await this.store.replaceSecrets(channel, id, webhook.version, secrets, now);
      if (updated) return { webhook: updated, secret };
    }
    throw new HubError("CONFLICT", "The webhook changed while its secret was rotated; try again.");
  }

  disable(channel: Channel, id: string, now: Date): Promise<WebhookDocument> {
    return this.store.disableOfChannel(channel, id, now);
  }

  list(channel: Channel): Promise<WebhookDocument[]> {
    return this.store.listByChannel(channel);
  }

  deliveries(channel: Channel, id: string, first: number | null): Promise<DeliveryDocument[]> {
    return this.store.deliveriesOf(channel, id, first);
  }
}

/**
 * What the webhook resolver needs in the request context: the feed's context adds it
 * (`FeedContext extends HubContext, WebhooksInContext`).
 */
export interface WebhooksInContext {
  webhooks: WebhookService;
}
