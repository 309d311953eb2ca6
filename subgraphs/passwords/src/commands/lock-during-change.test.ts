import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { CardPasswordStore } from "../store/card-password-store.js";
import { ElectronicPasswordStore } from "../store/electronic-password-store.js";
import { PasswordRepository } from "../store/password-repository.js";
import {
  caller,
  electronicPassword,
  freshCommands,
  initialCardPassword,
  now,
} from "../testing/password-fixtures.js";

const client = useTestMongo();

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

const commandsOn = (name: string) => freshCommands(client(), name, LockedRightAfterVerification);

describe("a password lock set while a change is under way is never lifted (replica-set safe)", () => {
  it("R-PWD-3: changeCardPassword answers PASSWORD_LOCKED and the card password stays LOCKED", async () => {
    const { repository, commands } = await commandsOn("pwd_race_card");
    await initialCardPassword(repository, "c_1", 1);
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
    await electronicPassword(repository, "p_1", "394857");
    await expect(
      commands.electronic.set("p_1", "394857", "555666", now, caller, null),
    ).rejects.toMatchObject({ extensions: expect.objectContaining({ code: "PASSWORD_LOCKED" }) });
    expect((await repository.electronicPasswords.find("p_1"))?.lockedAt).toEqual(now);
  });
});
