import { randomUUID } from "node:crypto";
import { HubError, isDuplicateKeyError, type Channel } from "@hub/kit";
import type { Collection, Db, Filter } from "mongodb";
import type { CardEventType } from "../rules/card-event-types.js";
import type { WebhookSecrets } from "./secrets.js";

export type WebhookStatus = "ACTIVE" | "FAILING" | "DISABLED";
export type WebhookDeliveryStatus = "DELIVERED" | "RETRYING" | "FAILED";

/** A channel's webhook (`webhooks`). */
export interface WebhookDocument {
  _id: string;
  /** The channel whose token registered it: only it sees or changes it. */
  channel: Channel;
  url: string;
  /** Only events of these types; null for every type. */
  types: CardEventType[] | null;
  status: WebhookStatus;
  /** Sealed (secrets.ts): the database never holds a secret that signs. */
  secrets: WebhookSecrets;
  createdAt: Date;
  updatedAt: Date;
  /** The last log entry (`seq`) handled: delivered, skipped as not wanted, or failed. */
  position: number;
  /** Why it is DISABLED (the channel, or the receiver's 410); null otherwise. */
  disabledReason: string | null;
  /** Grows with every change: rotations compare it (optimistic updates). */
  version: number;
}

/**
 * One event's delivery to one webhook (`webhook_deliveries`): one document per webhook and event
 * attempted, updated in place on each attempt (never a growing history), and pruned with the
 * log's retention once it is over.
 */
export interface DeliveryDocument {
  /** `${webhookId}:${eventId}`: one per webhook and event however often it is tried. */
  _id: string;
  webhookId: string;
  /** The webhook's channel, so that every read can be filtered by it. */
  channel: Channel;
  eventId: string;
  /** The event's position in the log (deliveries list newest first by it). */
  seq: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  firstAttemptAt: Date;
  lastAttemptAt: Date;
  /** When it is tried again; null once it is over. */
  nextAttemptAt: Date | null;
  /** The receiver's last HTTP status; null when it did not answer. */
  responseStatus: number | null;
  /** Why the last attempt failed, for operators (never a secret or a body). */
  lastError: string | null;
}

/** One attempt as the deliverer records it. */
export interface AttemptRecord {
  webhook: Pick<WebhookDocument, "_id" | "channel">;
  eventId: string;
  seq: number;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** The attempts recorded when this one was decided: the record changes only if still so. */
  previousAttempts: number;
  at: Date;
  nextAttemptAt: Date | null;
  responseStatus: number | null;
  lastError: string | null;
}

/** The contract leaves `first` open: 20 when absent, at most 100. */
export const DEFAULT_DELIVERIES = 20;
export const MAX_DELIVERIES = 100;

export const newWebhookId = () => `wh_${randomUUID().replace(/-/g, "").slice(0, 16)}`;

const deliveryId = (webhookId: string, eventId: string) => `${webhookId}:${eventId}`;

function notFound(): HubError {
  // The same answer for a webhook of another channel as for none: ids reveal nothing.
  return new HubError("NOT_FOUND", "No webhook of your channel has this id.", {
    field: "webhookId",
  });
}

/**
 * The webhooks and their deliveries. Every read and write on a channel's behalf names the
 * channel in its filter, so a channel reaches only its own (NOT_FOUND otherwise); the deliverer's
 * own reads and writes (by id, all channels) are separate methods. None of these collections is
 * written inside a transaction, so no write here needs to wait beside one.
 */
export class WebhookStore {
  readonly webhooks: Collection<WebhookDocument>;
  readonly deliveries: Collection<DeliveryDocument>;

  constructor(readonly db: Db) {
    this.webhooks = db.collection<WebhookDocument>("webhooks");
    this.deliveries = db.collection<DeliveryDocument>("webhook_deliveries");
  }

  async ensureIndexes(): Promise<void> {
    await this.webhooks.createIndex({ channel: 1, createdAt: 1 }, { name: "by_channel" });
    await this.webhooks.createIndex({ status: 1 }, { name: "by_status" });
    await this.deliveries.createIndex({ webhookId: 1, seq: -1 }, { name: "by_webhook" });
    await this.deliveries.createIndex({ status: 1, lastAttemptAt: 1 }, { name: "by_age" });
  }

  // ------------------------------------------------------------------ a channel's

  async insert(webhook: WebhookDocument): Promise<void> {
    await this.webhooks.insertOne(webhook);
  }

  /** The channel's webhooks, oldest first. */
  listByChannel(channel: Channel): Promise<WebhookDocument[]> {
    return this.webhooks.find({ channel }).sort({ createdAt: 1, _id: 1 }).toArray();
  }

  /** Webhooks the channel has that still deliver (a bound on how many it may have). */
  countLive(channel: Channel): Promise<number> {
    return this.webhooks.countDocuments({ channel, status: { $ne: "DISABLED" } });
  }

  /** The channel's webhook `id`, or NOT_FOUND (also for another channel's). */
  async ofChannel(channel: Channel, id: string): Promise<WebhookDocument> {
    const found = await this.webhooks.findOne({ _id: id, channel });
    if (!found) throw notFound();
    return found;
  }

  /** New secrets if nobody changed the webhook since `version` was read; null if somebody did. */
  async replaceSecrets(
    channel: Channel,
    id: string,
    version: number,
    secrets: WebhookSecrets,
    now: Date,
  ): Promise<WebhookDocument | null> {
    return this.webhooks.findOneAndUpdate(
      { _id: id, channel, version, status: { $ne: "DISABLED" } },
      { $set: { secrets, updatedAt: now }, $inc: { version: 1 } },
      { returnDocument: "after" },
    );
  }

  /** Disables the channel's webhook (again: no change); NOT_FOUND for another channel's. */
  async disableOfChannel(channel: Channel, id: string, now: Date): Promise<WebhookDocument> {
    await this.ofChannel(channel, id);
    await this.disable(id, "disabled by its channel", now);
    return this.ofChannel(channel, id);
  }

  /** The channel's webhook's deliveries, newest event first; NOT_FOUND for another's webhook. */
  async deliveriesOf(
    channel: Channel,
    webhookId: string,
    first: number | null,
  ): Promise<DeliveryDocument[]> {
    const limit = first ?? DEFAULT_DELIVERIES;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERIES)
      throw new HubError("BAD_USER_INPUT", `first must be between 1 and ${MAX_DELIVERIES}.`, {
        field: "first",
      });
    await this.ofChannel(channel, webhookId);
    return this.deliveries.find({ webhookId, channel }).sort({ seq: -1 }).limit(limit).toArray();
  }

  // ------------------------------------------------------------------ the deliverer's

  byId(id: string): Promise<WebhookDocument | null> {
    return this.webhooks.findOne({ _id: id });
  }

  /** Every webhook that still delivers (ACTIVE or FAILING), of every channel. */
  live(): Promise<WebhookDocument[]> {
    return this.webhooks.find({ status: { $in: ["ACTIVE", "FAILING"] } }).toArray();
  }

  delivery(webhookId: string, eventId: string): Promise<DeliveryDocument | null> {
    return this.deliveries.findOne({ _id: deliveryId(webhookId, eventId) });
  }

  /** Records an attempt on the delivery's one document (created by the first). */
  /**
   * Records an attempt unless another replica recorded one (or finished the delivery) since this
   * one read the record: false then, and the caller, stale, stops.
   */
  async recordAttempt(record: AttemptRecord): Promise<boolean> {
    const unchanged: Filter<DeliveryDocument> =
      record.previousAttempts === 0
        ? { attempts: { $exists: false } }
        : { attempts: record.previousAttempts, status: "RETRYING" };
    try {
      const written = await this.deliveries.updateOne(
        { _id: deliveryId(record.webhook._id, record.eventId), ...unchanged },
        {
          $set: {
            status: record.status,
            attempts: record.attempts,
            lastAttemptAt: record.at,
            nextAttemptAt: record.nextAttemptAt,
            responseStatus: record.responseStatus,
            lastError: record.lastError,
          },
          $setOnInsert: {
            webhookId: record.webhook._id,
            channel: record.webhook.channel,
            eventId: record.eventId,
            seq: record.seq,
            firstAttemptAt: record.at,
          },
        },
        { upsert: true },
      );
      return written.matchedCount + written.upsertedCount === 1;
    } catch (error) {
      // The record exists and has changed: the upsert's insert met it.
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }

  /**
   * Moves the webhook past log entry `seq` (never back), with its new status if one is given; a
   * webhook disabled meanwhile stays as it is.
   */
  async advance(id: string, seq: number, now: Date, status?: "ACTIVE" | "FAILING"): Promise<void> {
    await this.webhooks.updateOne(
      { _id: id, position: { $lt: seq }, status: { $ne: "DISABLED" } },
      {
        $set: { position: seq, updatedAt: now, ...(status ? { status } : {}) },
        $inc: { version: 1 },
      },
    );
  }

  /**
   * Disables a webhook (its channel asked, or its receiver answered 410); its deliveries still
   * waiting for a retry are FAILED, since none will come.
   */
  async disable(id: string, reason: string, now: Date): Promise<void> {
    await this.webhooks.updateOne(
      { _id: id, status: { $ne: "DISABLED" } },
      {
        $set: { status: "DISABLED", disabledReason: reason, updatedAt: now },
        $inc: { version: 1 },
      },
    );
    await this.deliveries.updateMany(
      { webhookId: id, status: "RETRYING" },
      { $set: { status: "FAILED", nextAttemptAt: null } },
    );
  }

  /**
   * Removes deliveries that are over (DELIVERED, and FAILED, whose event the log no longer has
   * either) and last tried before `before` (the log's retention): the collection stays bounded.
   */
  async prune(before: Date): Promise<number> {
    const { deletedCount } = await this.deliveries.deleteMany({
      status: { $in: ["DELIVERED", "FAILED"] },
      lastAttemptAt: { $lt: before },
    });
    return deletedCount;
  }

  async ping(): Promise<boolean> {
    await this.webhooks.countDocuments({}, { limit: 1 });
    return true;
  }
}
