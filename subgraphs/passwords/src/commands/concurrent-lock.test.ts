import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { CARD_PASSWORD_MAX_FAILURES, ELECTRONIC_PASSWORD_LOCK_AT } from "../rules/lock-rules.js";
import { caller, electronicPassword, freshCommands, now } from "../testing/password-fixtures.js";

const client = useTestMongo();
const GUESSES = 20;

const commandsOn = (name: string) => freshCommands(client(), name);

/**
 * Wrong entries arriving together: the one that reaches the limit counts and locks in one write,
 * so no entry meets a reached limit without its lock. The stored password is read the moment each
 * answer is given, as the mutation's `card { password }` / `person { electronicCardPassword }`
 * field reads it.
 */
describe("concurrent wrong entries lock atomically with the entry that reaches the limit", () => {
  it("R-PWD-3: every LOCKED card-password answer meets the lock already stored; one LOCKED audit record", async () => {
    const { repository, commands } = await commandsOn("pwd_conc_card");
    await repository.known.cards.add("c_1", now);
    const answers = await Promise.all(
      Array.from({ length: GUESSES }, async () => {
        const answer = await commands.card.verify("c_1", "000002", now, caller);
        return { ...answer, stored: await repository.cardPasswords.find("c_1") };
      }),
    );
    // Six wrong entries: five leave 5..1 attempts, the sixth locks (R-PWD-3).
    expect(
      answers
        .filter((a) => a.result === "WRONG")
        .map((a) => a.attemptsLeft)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5]);
    const locked = answers.filter((a) => a.result === "LOCKED");
    expect(locked).toHaveLength(GUESSES - (CARD_PASSWORD_MAX_FAILURES - 1));
    for (const answer of locked)
      expect(answer.stored).toMatchObject({
        state: "LOCKED",
        failedAttempts: CARD_PASSWORD_MAX_FAILURES,
        lockedAt: now,
      });
    expect(
      await repository.audit.events.countDocuments({
        subject: "c_1",
        kind: "CARD",
        type: "LOCKED",
      }),
    ).toBe(1);
  });

  it("R-PWD-4: every LOCKED electronic-card answer says until when; one LOCKED audit record and one event", async () => {
    const { db, repository, commands } = await commandsOn("pwd_conc_ecard");
    await electronicPassword(repository, "p_1", "394857");
    const answers = await Promise.all(
      Array.from({ length: GUESSES }, async () => {
        const answer = await commands.electronic.verify("p_1", "000002", now, caller, null);
        return { ...answer, stored: await repository.electronicPasswords.find("p_1") };
      }),
    );
    expect(
      answers
        .filter((a) => a.result === "WRONG")
        .map((a) => a.attemptsLeft)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5, 6]);
    const locked = answers.filter((a) => a.result === "LOCKED");
    expect(locked).toHaveLength(GUESSES - (ELECTRONIC_PASSWORD_LOCK_AT - 1));
    const lockedUntil = new Date(now.getTime() + 24 * 3600_000);
    for (const answer of locked) {
      expect(answer.lockedUntil).toEqual(lockedUntil);
      expect(answer.stored).toMatchObject({
        failedAttempts: ELECTRONIC_PASSWORD_LOCK_AT,
        lockedAt: now,
      });
    }
    expect(
      await repository.audit.events.countDocuments({
        subject: "p_1",
        kind: "ELECTRONIC",
        type: "LOCKED",
      }),
    ).toBe(1);
    // One event (the outbox holds a document per receiver of it).
    expect(
      await db.collection("outbox").distinct("eventId", { type: "ElectronicPasswordLocked" }),
    ).toHaveLength(1);
  });
});
