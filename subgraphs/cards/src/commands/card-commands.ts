import type { Outbox } from "@hub/kit";
import { checkCommand, type CardCommand } from "../rules/state-machine.js";
import type { CardRepository } from "../store/card-repository.js";
import type { PersonRegistry } from "../store/person-registry.js";
import { randomCardNumber } from "./card-numbers.js";
import type { CardStores } from "./card-stores.js";
import { changeCard } from "./change-card.js";
import { completeStrandedClaims } from "./claim-sweep.js";
import type { CommandMeta, CommandResult } from "./command-meta.js";
import { issueCard, type IssuePlan } from "./issue-card.js";
import { replaceCard } from "./replace-card.js";

/**
 * The card commands as resolvers, received events and the relay's sweep call them: load → state
 * machine → store, one file per command. A command on one card is one version-guarded update of
 * that card (change-card.ts); issuing claims the card on the person's registry entry and stores
 * it after, without a multi-document transaction (issue-card.ts, claim-sweep.ts); only a
 * replacement, which writes two cards, runs in a transaction (replace-card.ts).
 */
export class CardCommands {
  private readonly stores: CardStores;

  constructor(
    repository: CardRepository,
    registry: PersonRegistry,
    outbox: Outbox,
    drawNumber: () => string = randomCardNumber,
  ) {
    this.stores = { repository, registry, outbox, drawNumber };
    // Cards are addressed by their full planned shard key (docs/scale.md).
    outbox.carriedIn(repository.cardsAsCarrier, (card) => ({
      personId: card["personId"],
      _id: card["_id"],
    }));
  }

  issue(meta: CommandMeta, plan: IssuePlan): Promise<CommandResult> {
    return issueCard(this.stores, meta, plan);
  }

  /** A request's command on an existing card: its channel and input are checked first. */
  async run(cardId: string, command: CardCommand, meta: CommandMeta): Promise<CommandResult> {
    checkCommand(command, meta.caller.channel, meta.now);
    if (command.kind !== "REPLACE") return this.applyToCard(cardId, command, meta);
    return replaceCard(this.stores, cardId, command, meta);
  }

  /** A command that changes one card, without run()'s checks: received events apply theirs so. */
  applyToCard(cardId: string, command: CardCommand, meta: CommandMeta): Promise<CommandResult> {
    return changeCard(this.stores, cardId, command, meta);
  }

  /**
   * A received event that changes nothing on the card but that the feed hears of through cards
   * (`meta.passOn`): passed on in a write of the card, keyed by the event's id like any other.
   */
  passOnToFeed(cardId: string, meta: CommandMeta): Promise<CommandResult> {
    return changeCard(this.stores, cardId, null, meta);
  }

  completeStrandedClaims(olderThanMs: number): Promise<number> {
    return completeStrandedClaims(this.stores, olderThanMs);
  }
}
