import { Outbox, type Caller } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../crypto/password-hash.js";
import { PasswordRepository } from "./password-repository.js";
import { PasswordService } from "./password-service.js";

const client = useTestMongo();
const caller: Caller = { sub: "t", channel: "COUNTER", scopes: new Set() };
const now = new Date("2026-12-01T09:00:00Z");

/**
 * A repository in which six wrong entries from other terminals land right after this request's
 * correct entry was counted: the moment the old code read "not locked" and then wrote without
 * looking again.
 */
class LockedRightAfterVerification extends PasswordRepository {
  override async clearCardFailures(cardId: string, at: Date): Promise<boolean> {
    const cleared = await super.clearCardFailures(cardId, at);
    await this.cardPasswords.updateOne(
      { _id: cardId },
      { $set: { state: "LOCKED", failedAttempts: 6, lockedAt: at } },
    );
    return cleared;
  }

  override async clearElectronicFailures(personId: string, at: Date): Promise<boolean> {
    const cleared = await super.clearElectronicFailures(personId, at);
    await this.electronicPasswords.updateOne(
      { _id: personId },
      { $set: { failedAttempts: 7, lockedAt: at } },
    );
    return cleared;
  }
}

async function serviceOn(name: string) {
  const db = client().db(`${name}_${Math.random().toString(36).slice(2, 10)}`);
  const repository = new LockedRightAfterVerification(db);
  await repository.ensureIndexes();
  const outbox = new Outbox(db, "passwords");
  await outbox.ensureIndexes();
  const initial = { password: "123456" };
  return { repository, service: new PasswordService(repository, outbox, initial) };
}

describe("a password lock set while a change is under way is never lifted (replica-set safe)", () => {
  it("R-PWD-3: changeCardPassword answers PASSWORD_LOCKED and the card password stays LOCKED", async () => {
    const { repository, service } = await serviceOn("pwd_race_card");
    await repository.knownCards.add("c_1", now);
    await repository.cardPasswords.insertOne({
      _id: "c_1",
      hash: null,
      state: "INITIAL",
      failedAttempts: 1,
      lockedAt: null,
      updatedAt: now,
    });
    await expect(
      service.changeCard("c_1", "123456", "802615", now, caller, null),
    ).rejects.toMatchObject({
      extensions: expect.objectContaining({ code: "PASSWORD_LOCKED" }),
    });
    expect(await repository.cardPassword("c_1")).toMatchObject({
      state: "LOCKED",
      failedAttempts: 6,
    });
  });

  it("R-PWD-4: setElectronicCardPassword answers PASSWORD_LOCKED and the lock stays", async () => {
    const { repository, service } = await serviceOn("pwd_race_ecard");
    await repository.knownPersons.add("p_1", now);
    await repository.electronicPasswords.insertOne({
      _id: "p_1",
      hash: await hashPassword("394857"),
      failedAttempts: 0,
      lockedAt: null,
      updatedAt: now,
    });
    await expect(
      service.setElectronic("p_1", "394857", "555666", now, caller, null),
    ).rejects.toMatchObject({ extensions: expect.objectContaining({ code: "PASSWORD_LOCKED" }) });
    expect((await repository.electronicPassword("p_1"))?.lockedAt).toEqual(now);
  });
});
