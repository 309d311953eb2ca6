import { Outbox, type Caller } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import type { ClientSession } from "mongodb";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../crypto/password-hash.js";
import { CardPasswordStore, type StoredCardPassword } from "../store/card-password-store.js";
import { PasswordRepository } from "../store/password-repository.js";
import { passwordCommands } from "./password-commands.js";

const client = useTestMongo();
const caller: Caller = { sub: "t", channel: "COUNTER", scopes: new Set() };
const now = new Date("2026-12-01T09:00:00Z");

/**
 * A store in which, right after this entry read the card's password, other terminals changed it
 * (INITIAL → SET) and entered it wrong five times: the entry's own read is then out of date.
 */
class ChangedRightAfterRead extends CardPasswordStore {
  private changed = false;

  override async find(cardId: string, session?: ClientSession): Promise<StoredCardPassword | null> {
    const read = await super.find(cardId, session);
    if (!this.changed && !session) {
      this.changed = true;
      await this.collection.updateOne(
        { _id: cardId },
        { $set: { hash: await hashPassword("802615"), state: "SET", failedAttempts: 5 } },
      );
    }
    return read;
  }
}

class Repository extends PasswordRepository {
  override readonly cardPasswords = new ChangedRightAfterRead(this.db);
}

describe("the event of a card password's lock (the feed's CARD_PASSWORD_LOCKED)", () => {
  it("R-PWD-3: names the state the lock changed, as the lock's own write found it, not as the entry read it before", async () => {
    const db = client().db(`pwd_lock_from_${Math.random().toString(36).slice(2, 10)}`);
    const repository = new Repository(db);
    await repository.ensureIndexes();
    const outbox = new Outbox(db, "passwords");
    await outbox.ensureIndexes();
    const commands = passwordCommands(repository, outbox, { password: "123456" });
    await repository.known.cards.add("c_1", now);
    await repository.cardPasswords.collection.insertOne({
      _id: "c_1",
      hash: null,
      state: "INITIAL",
      failedAttempts: 5,
      lockedAt: null,
      updatedAt: now,
    });
    const answer = await commands.card.verify("c_1", "000000", now, caller);
    expect(answer).toEqual({ result: "LOCKED", attemptsLeft: 0 });
    const locked = await db
      .collection("outbox")
      .find({ type: "CardPasswordStateChanged" })
      .toArray();
    expect(locked.map((doc) => doc["payload"])).toEqual([
      { cardId: "c_1", personId: null, change: "LOCKED", fromState: "SET", state: "LOCKED" },
    ]);
  });
});
