import { Outbox, type Caller } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../crypto/password-hash.js";
import { CardPasswordStore } from "../store/card-password-store.js";
import { ElectronicPasswordStore } from "../store/electronic-password-store.js";
import { PasswordRepository } from "../store/password-repository.js";
import { passwordCommands } from "./password-commands.js";

const client = useTestMongo();
const caller: Caller = { sub: "t", channel: "COUNTER", scopes: new Set() };
const now = new Date("2026-12-01T09:00:00Z");

/**
 * Stores in which six wrong entries from other terminals land right after this request's correct
 * entry was counted: between reading "not locked" and writing the new password, where a write that
 * did not look at the lock again would lift it.
 */
class CardPasswordsLockedRightAfter extends CardPasswordStore {
  override async clearFailures(cardId: string, at: Date): Promise<boolean> {
    const cleared = await super.clearFailures(cardId, at);
    await this.collection.updateOne(
      { _id: cardId },
      { $set: { state: "LOCKED", failedAttempts: 6, lockedAt: at } },
    );
    return cleared;
  }
}

class ElectronicPasswordsLockedRightAfter extends ElectronicPasswordStore {
  override async clearFailures(personId: string, at: Date): Promise<boolean> {
    const cleared = await super.clearFailures(personId, at);
    await this.collection.updateOne(
      { _id: personId },
      { $set: { failedAttempts: 7, lockedAt: at } },
    );
    return cleared;
  }
}

class LockedRightAfterVerification extends PasswordRepository {
  override readonly cardPasswords = new CardPasswordsLockedRightAfter(this.db);
  override readonly electronicPasswords = new ElectronicPasswordsLockedRightAfter(this.db);
}

async function commandsOn(name: string) {
  const db = client().db(`${name}_${Math.random().toString(36).slice(2, 10)}`);
  const repository = new LockedRightAfterVerification(db);
  await repository.ensureIndexes();
  const outbox = new Outbox(db, "passwords");
  await outbox.ensureIndexes();
  const initial = { password: "123456" };
  return { repository, commands: passwordCommands(repository, outbox, initial) };
}

describe("a password lock set while a change is under way is never lifted (replica-set safe)", () => {
  it("R-PWD-3: changeCardPassword answers PASSWORD_LOCKED and the card password stays LOCKED", async () => {
    const { repository, commands } = await commandsOn("pwd_race_card");
    await repository.known.cards.add("c_1", now);
    await repository.cardPasswords.collection.insertOne({
      _id: "c_1",
      hash: null,
      state: "INITIAL",
      failedAttempts: 1,
      lockedAt: null,
      updatedAt: now,
    });
    await expect(
      commands.card.change("c_1", "123456", "802615", now, caller, null),
    ).rejects.toMatchObject({
      extensions: expect.objectContaining({ code: "PASSWORD_LOCKED" }),
    });
    expect(await repository.cardPasswords.find("c_1")).toMatchObject({
      state: "LOCKED",
      failedAttempts: 6,
    });
  });

  it("R-PWD-4: setElectronicCardPassword answers PASSWORD_LOCKED and the lock stays", async () => {
    const { repository, commands } = await commandsOn("pwd_race_ecard");
    await repository.known.persons.add("p_1", now);
    await repository.electronicPasswords.collection.insertOne({
      _id: "p_1",
      hash: await hashPassword("394857"),
      failedAttempts: 0,
      lockedAt: null,
      updatedAt: now,
    });
    await expect(
      commands.electronic.set("p_1", "394857", "555666", now, caller, null),
    ).rejects.toMatchObject({ extensions: expect.objectContaining({ code: "PASSWORD_LOCKED" }) });
    expect((await repository.electronicPasswords.find("p_1"))?.lockedAt).toEqual(now);
  });
});
