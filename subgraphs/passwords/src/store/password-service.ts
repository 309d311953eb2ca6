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
import {
  CARD_PASSWORD_MAX_FAILURES,
  cardAttemptsLeft,
  cardPasswordView,
  ELECTRONIC_PASSWORD_LOCK_AT,
  electronicAttemptsLeft,
  electronicLockEnds,
  electronicPasswordView,
  type CardPasswordRecord,
} from "../rules/lock-rules.js";
import { checkCardPasswordUsable } from "../rules/card-status.js";
import { checkNewPassword } from "../rules/password-policy.js";
import { cardPasswordLocked, type PasswordRepository } from "./password-repository.js";

export interface CardVerification {
  result: VerifyResult;
  attemptsLeft: number;
}

export interface ElectronicVerification extends CardVerification {
  lockedUntil: Date | null;
}

/** R-PWD-4: every electronic-card service is locked until the lock lifts by itself. */
function electronicLocked(until: Date | null): HubError {
  return new HubError(
    "PASSWORD_LOCKED",
    "Electronic-card services are locked after too many wrong passwords; the lock lifts by itself.",
    { lockedUntil: until?.toISOString() },
  );
}

function noElectronicPassword(): HubError {
  return new HubError(
    "BAD_USER_INPUT",
    "No electronic-card password has been set for this person.",
  );
}

type Agent = { idNumber: string; name: string; powerOfAttorneyRef: string } | null;

/**
 * Password flows (R-PWD-1..6). Answers say only OK, WRONG with attempts left, or LOCKED: never
 * anything about how close a guess was. Passwords and hashes never leave this service.
 */
export class PasswordService {
  constructor(
    private readonly repository: PasswordRepository,
    private readonly outbox: Outbox,
    /** The deployment's initial card password (setting HUB_INITIAL_CARD_PASSWORD). */
    private readonly initial: { password: string },
  ) {}

  private async requireCard(
    cardId: string,
    session?: ClientSession,
  ): Promise<{ status: string | null }> {
    const card = await this.repository.knownCard(cardId, session);
    if (!card) throw new HubError("NOT_FOUND", `No card has the id "${cardId}".`);
    return card;
  }

  /** The card exists and its password may still be used (R-CARD-10): one read of its record. */
  private async requireUsableCard(cardId: string, session?: ClientSession): Promise<void> {
    checkCardPasswordUsable((await this.requireCard(cardId, session)).status);
  }

  private async requirePerson(personId: string): Promise<void> {
    if (!(await this.repository.knownPersons.has(personId)))
      throw new HubError("NOT_FOUND", `No person has the id "${personId}".`);
  }

  /** R-PWD-3: one entry of the card password, counted atomically. */
  async verifyCard(
    cardId: string,
    password: string,
    now: Date,
    caller: Caller,
  ): Promise<CardVerification> {
    await this.requireUsableCard(cardId);
    return this.enterCardPassword(cardId, password, now, caller);
  }

  /** One counted entry on a card already checked to exist and be usable. */
  private async enterCardPassword(
    cardId: string,
    password: string,
    now: Date,
    caller: Caller,
  ): Promise<CardVerification> {
    const stored = await this.repository.cardPassword(cardId);
    if (stored?.state === "LOCKED") return { result: "LOCKED", attemptsLeft: 0 };
    const correct = stored?.hash
      ? await verifyPassword(password, stored.hash)
      : isInitialPassword(password, this.initial.password);
    if (correct) {
      // Nothing to reset: no wrong entry since the last correct one (as read just now).
      if (!stored || stored.failedAttempts === 0)
        return { result: "OK", attemptsLeft: CARD_PASSWORD_MAX_FAILURES };
      return (await this.repository.clearCardFailures(cardId, now))
        ? { result: "OK", attemptsLeft: CARD_PASSWORD_MAX_FAILURES }
        : { result: "LOCKED", attemptsLeft: 0 };
    }
    // The sixth wrong entry locks in the write that counts it, and its audit record commits with
    // that write (exactly one per lock): a concurrent entry never meets the limit without the lock.
    const after = await this.repository.countCardFailure(cardId, now, (session) =>
      this.repository.record(
        { subject: cardId, kind: "CARD", type: "LOCKED", at: now, caller },
        session,
      ),
    );
    // Null: no record could be made to count on (cannot happen: countCardFailure makes it).
    if (!after || after.locked) return { result: "LOCKED", attemptsLeft: 0 };
    return { result: "WRONG", attemptsLeft: cardAttemptsLeft(after.failedAttempts) };
  }

  /** R-PWD-2: a change needs the current password; changing the initial one enables the card. */
  async changeCard(
    cardId: string,
    current: string,
    next: string,
    now: Date,
    caller: Caller,
    effects: EffectScope | null,
  ): Promise<{ result: VerifyResult; password: CardPasswordRecord }> {
    // The input before the card's state (CONTRACT.md's order of checks).
    checkNewPassword(next, this.initial.password);
    await this.requireUsableCard(cardId);
    const before = await this.repository.cardPassword(cardId);
    if (before?.state === "LOCKED") throw cardPasswordLocked();
    const check = await this.enterCardPassword(cardId, current, now, caller);
    if (check.result !== "OK")
      return {
        result: check.result,
        password: cardPasswordView(await this.repository.cardPassword(cardId)),
      };
    const wasInitial = (before?.state ?? "INITIAL") === "INITIAL";
    // (Checked again where it is written: setCardPassword refuses a lock set since.)
    const hash = await hashPassword(next);
    await runTransaction(this.repository.db, async (session) => {
      await this.repository.setCardPassword(session, cardId, hash, "SET", now);
      await this.repository.record(
        { subject: cardId, kind: "CARD", type: "CHANGED", at: now, caller },
        session,
      );
      if (wasInitial) {
        await this.outbox.add(
          session,
          {
            type: "InitialPasswordChanged",
            payload: { cardId },
            actor: caller.sub,
            channel: caller.channel,
            occurredAt: now,
          },
          effects,
        );
      }
    });
    return { result: "OK", password: cardPasswordView(await this.repository.cardPassword(cardId)) };
  }

  /** R-PWD-3: an in-person or website reset unlocks and returns to the initial password. */
  async resetCard(
    cardId: string,
    agent: Agent,
    key: string | null | undefined,
    now: Date,
    caller: Caller,
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
        await this.requireUsableCard(cardId, session);
        await this.repository.setCardPassword(session, cardId, null, "INITIAL", now, true);
        await this.repository.record(
          { subject: cardId, kind: "CARD", type: "RESET", at: now, caller, agent },
          session,
        );
        // A replay answers the password as it was after the reset (CONTRACT.md "Writes").
        return { password: { ...cardPasswordView(null) } };
      },
    });
    return password;
  }

  /** R-PWD-4/5: one password per person for every channel; a change applies everywhere at once. */
  async setElectronic(
    personId: string,
    current: string | null | undefined,
    next: string,
    now: Date,
    caller: Caller,
    effects: EffectScope | null,
  ) {
    checkNewPassword(next, this.initial.password);
    await this.requirePerson(personId);
    const stored = await this.repository.electronicPassword(personId);
    const view = electronicPasswordView(stored, now);
    if (view.state === "LOCKED") {
      throw electronicLocked(view.lockedUntil);
    }
    if (view.state === "SET") {
      if (!current)
        throw new HubError(
          "BAD_USER_INPUT",
          "The current electronic-card password is required to change it.",
        );
      const check = await this.verifyElectronic(personId, current, now, caller, effects);
      if (check.result === "LOCKED") throw electronicLocked(check.lockedUntil);
      if (check.result === "WRONG")
        throw new HubError("BAD_USER_INPUT", "The current electronic-card password is wrong.", {
          attemptsLeft: check.attemptsLeft,
        });
    }
    const hash = await hashPassword(next);
    // The lock as seen now (after verifyElectronic lifted an expired one): a lock set by
    // concurrent wrong entries from here on makes the write below fail, not vanish.
    const lockedAtSeen = (await this.repository.electronicPassword(personId))?.lockedAt ?? null;
    if (lockedAtSeen) throw electronicLocked(electronicLockEnds(lockedAtSeen));
    await runTransaction(this.repository.db, async (session) => {
      await this.repository.setElectronicPassword(session, personId, hash, now, () =>
        electronicLocked(null),
      );
      await this.repository.record(
        { subject: personId, kind: "ELECTRONIC", type: "SET", at: now, caller },
        session,
      );
    });
    return electronicPasswordView(await this.repository.electronicPassword(personId), now);
  }

  /** R-PWD-4: the seventh wrong entry locks every electronic-card service for 24 hours. */
  async verifyElectronic(
    personId: string,
    password: string,
    now: Date,
    caller: Caller,
    effects: EffectScope | null,
  ): Promise<ElectronicVerification> {
    await this.requirePerson(personId);
    const stored = await this.repository.electronicPassword(personId);
    if (!stored?.hasPassword) throw noElectronicPassword();
    if (stored.lockedAt) {
      const until = electronicLockEnds(stored.lockedAt);
      if (now.getTime() < until.getTime())
        return { result: "LOCKED", attemptsLeft: 0, lockedUntil: until };
      await this.repository.liftElectronicLock(personId, stored.lockedAt, now);
    }
    if (await verifyPassword(password, stored.hash)) {
      if (await this.repository.clearElectronicFailures(personId, now))
        return { result: "OK", attemptsLeft: ELECTRONIC_PASSWORD_LOCK_AT, lockedUntil: null };
      return this.lockedAnswer(personId, now);
    }
    // The seventh wrong entry locks in the write that counts it, in one transaction with the
    // lock's audit record and event (exactly one of each per lock, and never the lock without
    // them): an entry arriving after it meets the lock and answers until when.
    const after = await this.repository.countElectronicFailure(personId, now, async (session) => {
      await this.repository.record(
        { subject: personId, kind: "ELECTRONIC", type: "LOCKED", at: now, caller },
        session,
      );
      // R-PWD-4: every electronic-card service locks, issuing an electronic card included
      // (the cards subgraph keeps this lock beside the person).
      await this.outbox.add(
        session,
        {
          type: "ElectronicPasswordLocked",
          payload: { personId, lockedUntil: electronicLockEnds(now).toISOString() },
          actor: caller.sub,
          channel: caller.channel,
          occurredAt: now,
        },
        effects,
      );
    });
    // Null: the record vanished since it was read (nothing deletes it): as if never set.
    if (!after) throw noElectronicPassword();
    if (after.locked)
      return {
        result: "LOCKED",
        attemptsLeft: 0,
        // The lock this entry set or met: it began when the entry that reached the limit came.
        lockedUntil: after.lockedAt ? electronicLockEnds(after.lockedAt) : null,
      };
    return {
      result: "WRONG",
      attemptsLeft: electronicAttemptsLeft(after.failedAttempts),
      lockedUntil: null,
    };
  }

  private async lockedAnswer(personId: string, now: Date): Promise<ElectronicVerification> {
    const view = electronicPasswordView(await this.repository.electronicPassword(personId), now);
    return { result: "LOCKED", attemptsLeft: 0, lockedUntil: view.lockedUntil };
  }
}
