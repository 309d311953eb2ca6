import { useTestMongo } from "@hub/kit/testing";
import type { ClientSession } from "mongodb";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../crypto/password-hash.js";
import { CardPasswordStore, type StoredCardPassword } from "../store/card-password-store.js";
import { PasswordRepository } from "../store/password-repository.js";
import { caller, freshCommands, initialCardPassword, now } from "../testing/password-fixtures.js";

const client = useTestMongo();

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
    const { db, repository, commands } = await freshCommands(client(), "pwd_lock_from", Repository);
    await initialCardPassword(repository, "c_1", 5);
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
