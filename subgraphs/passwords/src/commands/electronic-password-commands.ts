import { HubError, runTransaction, type Caller, type EffectScope, type Outbox } from "@hub/kit";
import { hashPassword, verifyPassword } from "../crypto/password-hash.js";
import type { VerifyResult } from "../model/verify.js";
import {
  ELECTRONIC_PASSWORD_LOCK_AT,
  electronicAttemptsLeft,
  electronicLockEnds,
  electronicPasswordView,
} from "../rules/lock-rules.js";
import { checkNewPassword } from "../rules/password-policy.js";
import type { PasswordRepository } from "../store/password-repository.js";

export interface ElectronicVerification {
  result: VerifyResult;
  attemptsLeft: number;
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

/**
 * A person's electronic-card password (R-PWD-4, R-PWD-5): set and verify. Answers say only OK,
 * WRONG with attempts left, or LOCKED with until when: never anything about how close a guess
 * was. Passwords and hashes never leave these commands and the store.
 */
export class ElectronicPasswordCommands {
  constructor(
    private readonly repository: PasswordRepository,
    private readonly outbox: Outbox,
    /** The deployment's initial card password (HUB_INITIAL_CARD_PASSWORD): no new password is it. */
    private readonly initial: { password: string },
  ) {}

  private async requirePerson(personId: string): Promise<void> {
    if (!(await this.repository.known.persons.has(personId)))
      throw new HubError("NOT_FOUND", `No person has the id "${personId}".`);
  }

  /** R-PWD-4/5: one password per person for every channel; a change applies everywhere at once. */
  async set(
    personId: string,
    current: string | null | undefined,
    next: string,
    now: Date,
    caller: Caller,
    effects: EffectScope | null,
  ) {
    const passwords = this.repository.electronicPasswords;
    checkNewPassword(next, this.initial.password);
    await this.requirePerson(personId);
    const stored = await passwords.find(personId);
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
      const check = await this.verify(personId, current, now, caller, effects);
      if (check.result === "LOCKED") throw electronicLocked(check.lockedUntil);
      if (check.result === "WRONG")
        throw new HubError("BAD_USER_INPUT", "The current electronic-card password is wrong.", {
          attemptsLeft: check.attemptsLeft,
        });
    }
    const hash = await hashPassword(next);
    // The lock as seen now (after verify lifted an expired one): a lock set by concurrent wrong
    // entries from here on makes the write below fail, not vanish.
    const lockedAtSeen = (await passwords.find(personId))?.lockedAt ?? null;
    if (lockedAtSeen) throw electronicLocked(electronicLockEnds(lockedAtSeen));
    await runTransaction(this.repository.db, async (session) => {
      await passwords.set(session, personId, hash, now, () => electronicLocked(null));
      await this.repository.audit.record(
        { subject: personId, kind: "ELECTRONIC", type: "SET", at: now, caller },
        session,
      );
    });
    return electronicPasswordView(await passwords.find(personId), now);
  }

  /** R-PWD-4: the seventh wrong entry locks every electronic-card service for 24 hours. */
  async verify(
    personId: string,
    password: string,
    now: Date,
    caller: Caller,
    effects: EffectScope | null,
  ): Promise<ElectronicVerification> {
    const passwords = this.repository.electronicPasswords;
    await this.requirePerson(personId);
    const stored = await passwords.find(personId);
    if (!stored?.hasPassword) throw noElectronicPassword();
    if (stored.lockedAt) {
      const until = electronicLockEnds(stored.lockedAt);
      if (now.getTime() < until.getTime())
        return { result: "LOCKED", attemptsLeft: 0, lockedUntil: until };
      await passwords.liftLock(personId, stored.lockedAt, now);
    }
    if (await verifyPassword(password, stored.hash)) {
      if (await passwords.clearFailures(personId, now))
        return { result: "OK", attemptsLeft: ELECTRONIC_PASSWORD_LOCK_AT, lockedUntil: null };
      return this.lockedAnswer(personId, now);
    }
    // The seventh wrong entry locks in the write that counts it, in one transaction with the
    // lock's audit record and event (exactly one of each per lock, and never the lock without
    // them): an entry arriving after it meets the lock and answers until when.
    const after = await passwords.countFailure(personId, now, async (session) => {
      await this.repository.audit.record(
        { subject: personId, kind: "ELECTRONIC", type: "LOCKED", at: now, caller },
        session,
      );
      // R-PWD-4: every electronic-card service locks, issuing an electronic card included
      // (the cards subgraph keeps this lock beside the person).
      // Stamped after the person's earlier locks, and recorded on the password's document that
      // this transaction locks (Outbox.addAbout): they leave in the order they were made.
      await this.outbox.addAbout(
        session,
        { collection: passwords.collection, filter: { _id: personId } },
        [
          {
            type: "ElectronicPasswordLocked",
            payload: { personId, lockedUntil: electronicLockEnds(now).toISOString() },
            actor: caller.sub,
            channel: caller.channel,
            occurredAt: now,
          },
        ],
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
    const stored = await this.repository.electronicPasswords.find(personId);
    const view = electronicPasswordView(stored, now);
    return { result: "LOCKED", attemptsLeft: 0, lockedUntil: view.lockedUntil };
  }
}
