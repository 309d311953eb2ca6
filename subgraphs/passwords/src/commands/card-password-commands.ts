import {
  HubError,
  runIdempotent,
  runTransaction,
  type Caller,
  type EffectScope,
  type Outbox,
} from "@hub/kit";
import type { ClientSession } from "mongodb";
import { hashPassword, isInitialPassword, verifyPassword } from "../crypto/password-hash.js";
import type { VerifyResult } from "../model/verify.js";
import { checkCardPasswordUsable } from "../rules/card-status.js";
import {
  CARD_PASSWORD_MAX_FAILURES,
  cardAttemptsLeft,
  cardPasswordView,
  type CardPasswordRecord,
} from "../rules/lock-rules.js";
import { checkNewPassword } from "../rules/password-policy.js";
import { cardPasswordLocked } from "../store/card-password-store.js";
import type { KnownCard } from "../store/known-subjects.js";
import type { PasswordRepository } from "../store/password-repository.js";
import { cardPasswordStateChanged } from "./card-password-events.js";

export interface CardVerification {
  result: VerifyResult;
  attemptsLeft: number;
}

type Agent = { idNumber: string; name: string; powerOfAttorneyRef: string } | null;

/**
 * A card's social security password (R-PWD-1..3, R-CARD-10): verify, change, reset. Answers say
 * only OK, WRONG with attempts left, or LOCKED: never anything about how close a guess was.
 * Passwords and hashes never leave these commands and the store.
 */
export class CardPasswordCommands {
  constructor(
    private readonly repository: PasswordRepository,
    private readonly outbox: Outbox,
    /** The deployment's initial card password (setting HUB_INITIAL_CARD_PASSWORD). */
    private readonly initial: { password: string },
  ) {}

  private async requireCard(cardId: string, session?: ClientSession): Promise<KnownCard> {
    const card = await this.repository.known.card(cardId, session);
    if (!card) throw new HubError("NOT_FOUND", `No card has the id "${cardId}".`);
    return card;
  }

  /**
   * The card password's document, which every transaction producing an event about the password
   * writes: its events are stamped after the ones before (Outbox.addAbout), so a lock, a reset
   * and a change leave in the order they were made, whichever replica made them.
   */
  private aboutPassword(cardId: string) {
    return { collection: this.repository.cardPasswords.collection, filter: { _id: cardId } };
  }

  /** The card exists and its password may still be used (R-CARD-10): one read of its record. */
  private async requireUsableCard(cardId: string, session?: ClientSession): Promise<KnownCard> {
    const card = await this.requireCard(cardId, session);
    checkCardPasswordUsable(card.status);
    return card;
  }

  /** R-PWD-3: one entry of the card password, counted atomically. */
  async verify(
    cardId: string,
    password: string,
    now: Date,
    caller: Caller,
    effects: EffectScope | null = null,
  ): Promise<CardVerification> {
    const card = await this.requireUsableCard(cardId);
    return this.enter({ cardId, personId: card.personId }, password, now, caller, effects);
  }

  /** One counted entry on a card already checked to exist and be usable. */
  private async enter(
    card: { cardId: string; personId: string | null },
    password: string,
    now: Date,
    caller: Caller,
    effects: EffectScope | null,
  ): Promise<CardVerification> {
    const { cardId } = card;
    const passwords = this.repository.cardPasswords;
    const stored = await passwords.find(cardId);
    if (stored?.state === "LOCKED") return { result: "LOCKED", attemptsLeft: 0 };
    const correct = stored?.hash
      ? await verifyPassword(password, stored.hash)
      : isInitialPassword(password, this.initial.password);
    if (correct) {
      // Nothing to reset: no wrong entry since the last correct one (as read just now).
      if (!stored || stored.failedAttempts === 0)
        return { result: "OK", attemptsLeft: CARD_PASSWORD_MAX_FAILURES };
      return (await passwords.clearFailures(cardId, now))
        ? { result: "OK", attemptsLeft: CARD_PASSWORD_MAX_FAILURES }
        : { result: "LOCKED", attemptsLeft: 0 };
    }
    // The sixth wrong entry locks in the write that counts it, and its audit record and event
    // commit with that write (exactly one of each per lock): a concurrent entry never meets the
    // limit without the lock.
    const after = await passwords.countFailure(cardId, now, async (session, lockedFrom) => {
      await this.repository.audit.record(
        { subject: cardId, kind: "CARD", type: "LOCKED", at: now, caller },
        session,
      );
      await this.outbox.addAbout(
        session,
        this.aboutPassword(cardId),
        [
          cardPasswordStateChanged(
            { ...card, kind: "LOCKED" },
            // The state the lock changed, read by its write: `stored`, read before the entry was
            // checked, may be older (a change or a reset committed meanwhile).
            { from: lockedFrom, to: "LOCKED" },
            caller,
            now,
          ),
        ],
        effects,
      );
    });
    // Null: no record could be made to count on (cannot happen: countFailure makes it).
    if (!after || after.locked) return { result: "LOCKED", attemptsLeft: 0 };
    return { result: "WRONG", attemptsLeft: cardAttemptsLeft(after.failedAttempts) };
  }

  /** R-PWD-2: a change needs the current password; changing the initial one enables the card. */
  async change(
    cardId: string,
    current: string,
    next: string,
    now: Date,
    caller: Caller,
    effects: EffectScope | null,
  ): Promise<{ result: VerifyResult; password: CardPasswordRecord }> {
    const passwords = this.repository.cardPasswords;
    // The input before the card's state (CONTRACT.md's order of checks).
    checkNewPassword(next, this.initial.password);
    const card = await this.requireUsableCard(cardId);
    const before = await passwords.find(cardId);
    if (before?.state === "LOCKED") throw cardPasswordLocked();
    const check = await this.enter(
      { cardId, personId: card.personId },
      current,
      now,
      caller,
      effects,
    );
    if (check.result !== "OK")
      return { result: check.result, password: cardPasswordView(await passwords.find(cardId)) };
    const wasInitial = (before?.state ?? "INITIAL") === "INITIAL";
    // (Checked again where it is written: the store's `set` refuses a lock set since.)
    const hash = await hashPassword(next);
    await runTransaction(this.repository.db, async (session) => {
      await passwords.set(session, cardId, hash, "SET", now);
      await this.repository.audit.record(
        { subject: cardId, kind: "CARD", type: "CHANGED", at: now, caller },
        session,
      );
      if (wasInitial) {
        await this.outbox.addAbout(
          session,
          this.aboutPassword(cardId),
          [
            {
              type: "InitialPasswordChanged",
              payload: { cardId },
              actor: caller.sub,
              channel: caller.channel,
              occurredAt: now,
            },
          ],
          effects,
        );
      }
    });
    return { result: "OK", password: cardPasswordView(await passwords.find(cardId)) };
  }

  /** R-PWD-3: an in-person or website reset unlocks and returns to the initial password. */
  async reset(
    cardId: string,
    agent: Agent,
    key: string | null | undefined,
    now: Date,
    caller: Caller,
    effects: EffectScope | null = null,
  ): Promise<CardPasswordRecord> {
    await this.requireCard(cardId);
    const { password } = await runIdempotent({
      db: this.repository.db,
      channel: caller.channel,
      key,
      operation: "resetCardPassword",
      input: { cardId, agent },
      work: async (session) => {
        // R-CARD-10 is checked here, where only a new reset runs: a replay of a reset made before
        // the card was cancelled still answers as it did then (CONTRACT.md "Writes").
        const card = await this.requireUsableCard(cardId, session);
        const before = await this.repository.cardPasswords.find(cardId, session);
        await this.repository.cardPasswords.set(session, cardId, null, "INITIAL", now, true);
        await this.repository.audit.record(
          { subject: cardId, kind: "CARD", type: "RESET", at: now, caller, agent },
          session,
        );
        await this.outbox.addAbout(
          session,
          this.aboutPassword(cardId),
          [
            cardPasswordStateChanged(
              { cardId, personId: card.personId, kind: "RESET" },
              { from: before?.state ?? "INITIAL", to: "INITIAL" },
              caller,
              now,
            ),
          ],
          effects,
        );
        // A replay answers the password as it was after the reset (CONTRACT.md "Writes").
        return { password: { ...cardPasswordView(null) } };
      },
    });
    return password;
  }
}
