import type { HubContext } from "@hub/kit";
import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import {
  DisableWebhookPayload,
  RegisterWebhookInput,
  RegisterWebhookPayload,
  RotateWebhookSecretPayload,
  toWebhook,
  toWebhookDelivery,
  Webhook,
  WebhookDelivery,
  WebhookIdInput,
} from "../model/webhook.js";
import type { WebhooksInContext } from "../webhooks/webhook-service.js";

type WebhookContext = HubContext & WebhooksInContext;

const INPUT = "The request; see its input type for each field.";

/**
 * A channel's webhooks (contract v3). Every operation needs `webhooks:write` (reading included:
 * the webhooks and their deliveries are the channel's integration settings, not card data), and
 * acts for the channel of the caller's token only: another channel's webhook is NOT_FOUND.
 */
@Resolver()
export class WebhookResolver {
  @Authorized("webhooks:write")
  @Mutation(() => RegisterWebhookPayload, {
    description:
      "Registers a webhook for the caller's channel: card status changes committed from now on are POSTed to its URL, signed per the Standard Webhooks specification (webhook-id = eventId, the same on every retry). The signing secret is shown in this answer only. Scope webhooks:write.",
  })
  async registerWebhook(
    @Arg("input", () => RegisterWebhookInput, { description: INPUT }) input: RegisterWebhookInput,
    @Ctx() ctx: WebhookContext,
  ): Promise<RegisterWebhookPayload> {
    const { webhook, secret } = await ctx.webhooks.register(
      ctx.caller.channel,
      { url: input.url, types: input.types ?? null },
      ctx.now(),
    );
    return { webhook: toWebhook(webhook), secret };
  }

  @Authorized("webhooks:write")
  @Mutation(() => RotateWebhookSecretPayload, {
    description:
      "Gives the webhook a new signing secret, shown in this answer only. The previous secret keeps signing beside the new one for 24 hours. Scope webhooks:write.",
  })
  async rotateWebhookSecret(
    @Arg("input", () => WebhookIdInput, { description: INPUT }) input: WebhookIdInput,
    @Ctx() ctx: WebhookContext,
  ): Promise<RotateWebhookSecretPayload> {
    const { webhook, secret } = await ctx.webhooks.rotate(
      ctx.caller.channel,
      input.webhookId,
      ctx.now(),
    );
    return { webhook: toWebhook(webhook), secret };
  }

  @Authorized("webhooks:write")
  @Mutation(() => DisableWebhookPayload, {
    description:
      "Disables the webhook: nothing more is delivered to it (disabling it again changes nothing). Scope webhooks:write.",
  })
  async disableWebhook(
    @Arg("input", () => WebhookIdInput, { description: INPUT }) input: WebhookIdInput,
    @Ctx() ctx: WebhookContext,
  ): Promise<DisableWebhookPayload> {
    const webhook = await ctx.webhooks.disable(ctx.caller.channel, input.webhookId, ctx.now());
    return { webhook: toWebhook(webhook) };
  }

  @Authorized("webhooks:write")
  @Query(() => [Webhook], {
    description: "The caller's channel's webhooks, oldest first. Scope webhooks:write.",
  })
  async webhooks(@Ctx() ctx: WebhookContext): Promise<Webhook[]> {
    return (await ctx.webhooks.list(ctx.caller.channel)).map(toWebhook);
  }

  @Authorized("webhooks:write")
  @Query(() => [WebhookDelivery], {
    description:
      "A webhook's deliveries, newest event first: one entry per event attempted, with its attempts and the receiver's last answer. Kept for the log's retention. Scope webhooks:write.",
  })
  async webhookDeliveries(
    @Arg("webhookId", () => ID, {
      description: "One of the caller's channel's webhooks (NOT_FOUND for another channel's).",
    })
    webhookId: string,
    @Arg("first", () => Int, {
      nullable: true,
      description: "How many deliveries at most (1 to 100; 20 when absent).",
    })
    first: number | null,
    @Ctx() ctx: WebhookContext,
  ): Promise<WebhookDelivery[]> {
    return (await ctx.webhooks.deliveries(ctx.caller.channel, webhookId, first)).map(
      toWebhookDelivery,
    );
  }
}
