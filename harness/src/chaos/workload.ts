import { composeIdNumber, type Channel } from "@hub/kit";
import { cardSteps, type CardSteps } from "./card-steps.js";
import {
  applied,
  field,
  INITIAL_PASSWORD,
  sleep,
  type CardState,
  type Step,
} from "./chaos-card.js";
import type { Answer, HubClient } from "./client.js";
import type { Ledger } from "./ledger.js";

/** Live cards each client keeps going (a cancelled one is replaced by a new person's card). */
const CARDS_PER_CLIENT = 3;
/** Before the one retry of a failed keyed request: HAProxy has marked the dead server down. */
const RETRY_AFTER_MS = 1_000;

/**
 * One counter operator working on its own cards: each card belongs to one client, and a client
 * sends one request at a time, so the history a card must have follows from this client's answers
 * alone (events from other subgraphs add only SOCIAL_FUNCTION_ENABLED, at most once).
 */
export class ChaosClient {
  private readonly cards: CardState[] = [];
  private serial = 0;
  private readonly steps: CardSteps;

  constructor(
    private readonly index: number,
    private readonly hub: HubClient,
    private readonly ledger: Ledger,
    private readonly runId: string,
  ) {
    // Built here rather than as a field: the parameter properties above are set by now.
    this.steps = cardSteps({
      cards: this.cards,
      ledger: this.ledger,
      key: () => this.key(),
      send: (operation, input, channel) => this.send(operation, input, channel),
      change: (card, operation, input, type, channel) =>
        this.change(card, operation, input, type, channel),
      refresh: (card) => this.refresh(card),
    });
  }

  async run(until: number): Promise<void> {
    while (Date.now() < until) {
      this.cards.splice(
        0,
        this.cards.length,
        ...this.cards.filter((c) => c.status !== "CANCELLED" || c.account !== "CANCELLED"),
      );
      if (this.cards.length < CARDS_PER_CLIENT) {
        await this.newCard();
        continue;
      }
      const card = this.cards[Math.floor(Math.random() * this.cards.length)]!;
      await this.pick(card)(card);
    }
  }

  /** A step that makes sense for the card as the client knows it; now and then any step. */
  private pick(card: CardState): Step {
    const s = this.steps;
    const weighted: [number, Step][] =
      card.status === "CANCELLED"
        ? [[1, s.cancelBankAccount]]
        : card.status === "TEMPORARY_LOSS"
          ? [
              [4, s.withdraw],
              [1, s.lossFormal],
              [0.8, s.replace],
              [0.3, s.cancel],
              [1, s.verify],
              [1, s.read],
            ]
          : card.status === "LOST"
            ? [
                [3, s.withdraw],
                [1.5, s.replace],
                [0.3, s.cancel],
                [1, s.read],
              ]
            : [
                [card.collected ? 0 : 3, s.collect],
                [card.enabled ? 0 : 2, s.enable],
                [card.account === "NOT_ACTIVATED" ? 3 : 0, s.activate],
                [card.password === INITIAL_PASSWORD ? 2 : 0.3, s.changePassword],
                [2, s.verify],
                [card.electronic ? 0 : 1, s.electronicCard],
                [3, s.lossTemporary],
                [1.5, s.lossFormal],
                [0.4, s.cancel],
                [0.6, s.replace],
                [1.5, s.read],
              ];
    // A stray step (e.g. collecting twice) keeps the rejection paths busy too.
    const all = Object.values(s);
    if (Math.random() < 0.05) return all[Math.floor(Math.random() * all.length)]!;
    let roll = Math.random() * weighted.reduce((total, [w]) => total + w, 0);
    for (const [weight, step] of weighted) if ((roll -= weight) < 0) return step;
    return s.read;
  }

  private key(): string {
    return `${this.runId}-${this.index}-${this.serial++}`;
  }

  /**
   * One request; a failed one that carries an idempotency key is sent once more with the same key
   * (a lost answer is learnt that way: the replay answers the first call's result if it applied).
   */
  private async send(
    operation: string,
    input: Record<string, unknown>,
    channel: Channel = "COUNTER",
  ): Promise<Answer> {
    let answer = await this.hub.call(operation, { input }, channel);
    this.ledger.note(this.index, operation, answer, false);
    if (answer.outcome === "failed" && "idempotencyKey" in input) {
      await sleep(RETRY_AFTER_MS);
      answer = await this.hub.call(operation, { input }, channel);
      this.ledger.note(this.index, operation, answer, true);
    }
    return answer;
  }

  private async newCard(): Promise<void> {
    const n = this.index * 100_000 + this.serial++;
    const born = new Date(Date.UTC(1960, 0, 1) + Math.floor(n / 998) * 86_400_000);
    const idNumber = composeIdNumber(
      "440106",
      born.toISOString().slice(0, 10).replace(/-/g, ""),
      1 + (n % 998),
    );
    const registered = await this.send("RegisterPerson", {
      idNumber,
      name: "混沌测试",
      idempotencyKey: this.key(),
    });
    const personId = field(field(registered.root, "person"), "id");
    if (typeof personId !== "string") return;
    const input = {
      personId,
      province: "44",
      issuingBank: "中国工商银行",
      idempotencyKey: this.key(),
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      const issued = await this.send("IssueCard", input);
      const card = field(issued.root, "card");
      const id = field(card, "id");
      if (applied(issued) && typeof id === "string") {
        this.ledger.tell(id, "IssueCard", issued);
        this.ledger.record(id, "ISSUED", issued);
        this.cards.push({
          id,
          personId,
          idNumber,
          status: String(field(card, "status")),
          collected: false,
          enabled: false,
          electronic: false,
          password: INITIAL_PASSWORD,
          triedPassword: null,
          account: String(field(field(card, "bankAccount"), "status") ?? "NOT_ACTIVATED"),
        });
        return;
      }
      if (issued.outcome === "failed") {
        this.ledger.unknownCreations += 1;
        return;
      }
      // The registration's effect may still be on its way to the cards subgraph (a receiver
      // was down): the issue is refused until it arrives.
      if (issued.code !== "NOT_FOUND") return;
      await sleep(RETRY_AFTER_MS);
    }
  }

  /** After an answer: the card's state as the payload's `card` shows it. */
  private learn(card: CardState, shown: unknown): void {
    const status = field(shown, "status");
    if (typeof status === "string") card.status = status;
    if (field(shown, "collectedAt")) card.collected = true;
    if (field(field(shown, "socialSecurityFunction"), "enabled") === true) {
      card.enabled = true;
      if (card.status === "ARCHIVED" && typeof status !== "string") card.status = "NORMAL";
    }
    if (field(shown, "electronicCard")) card.electronic = true;
    const account = field(field(shown, "bankAccount"), "status");
    if (typeof account === "string") card.account = account;
  }

  /** After a rejection or a lost answer: what the hub says of the person's cards now. */
  private async refresh(card: CardState): Promise<void> {
    const answer = await this.hub.call("PersonCards", { idNumber: card.idNumber });
    this.ledger.note(this.index, "PersonCards", answer, false);
    const cards = field(answer.root, "cards");
    if (!Array.isArray(cards)) return;
    for (const shown of cards) {
      const mine = this.cards.find((c) => c.id === field(shown, "id"));
      if (!mine) continue;
      this.learn(mine, shown);
      if (field(shown, "collectedAt") === null) mine.collected = false;
      const password = field(field(shown, "password"), "state");
      if (password === "INITIAL") mine.password = INITIAL_PASSWORD;
      if (password === "SET" && mine.password === INITIAL_PASSWORD && mine.triedPassword)
        mine.password = mine.triedPassword;
    }
  }

  /** A card mutation: answer recorded as the change `type` (if any), state learnt or refreshed. */
  private async change(
    card: CardState,
    operation: string,
    input: Record<string, unknown>,
    type: string | null,
    channel: Channel = "COUNTER",
  ): Promise<Answer> {
    const answer = await this.send(operation, { cardId: card.id, ...input }, channel);
    this.ledger.tell(card.id, type ?? operation, answer);
    if (type) this.ledger.record(card.id, type, answer);
    if (applied(answer)) this.learn(card, field(answer.root, "card"));
    if (answer.outcome !== "ok") await this.refresh(card);
    return answer;
  }
}
