import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { caller, freshCommands, now } from "../testing/password-fixtures.js";

const client = useTestMongo();

const commandsOn = (name: string) => freshCommands(client(), name);

const rejection = (code: string) => ({ extensions: expect.objectContaining({ code }) });

describe("a cancelled card's password (R-CARD-10, R-PWD-3)", () => {
  it("R-CARD-10 / R-PWD-3: verify, change and reset are INVALID_TRANSITION and count no attempt", async () => {
    const { repository, commands } = await commandsOn("pwd_cancelled");
    await repository.known.cards.add("c_1", now);
    await repository.known.noteCardStatus("c_1", "NORMAL", 2);
    // A wrong entry while the card is in use counts ...
    expect(await commands.card.verify("c_1", "000001", now, caller)).toEqual({
      result: "WRONG",
      attemptsLeft: 5,
    });
    await repository.known.noteCardStatus("c_1", "CANCELLED", 3);
    // ... and once it is cancelled nothing is counted, changed or reset any more.
    await expect(commands.card.verify("c_1", "000001", now, caller)).rejects.toMatchObject(
      rejection("INVALID_TRANSITION"),
    );
    await expect(commands.card.verify("c_1", "123456", now, caller)).rejects.toMatchObject(
      rejection("INVALID_TRANSITION"),
    );
    await expect(
      commands.card.change("c_1", "123456", "802615", now, caller, null),
    ).rejects.toMatchObject(rejection("INVALID_TRANSITION"));
    await expect(commands.card.reset("c_1", null, "reset-1", now, caller)).rejects.toMatchObject(
      rejection("INVALID_TRANSITION"),
    );
    expect(await repository.cardPasswords.find("c_1")).toMatchObject({
      hash: null,
      state: "INITIAL",
      failedAttempts: 1,
    });
    expect(await repository.audit.events.countDocuments({ subject: "c_1" })).toBe(0);
  });

  it("R-PWD-3: a reset replayed after the card was cancelled answers as it did the first time", async () => {
    const { repository, commands } = await commandsOn("pwd_cancelled_replay");
    await repository.known.cards.add("c_1", now);
    const first = await commands.card.reset("c_1", null, "reset-1", now, caller);
    await repository.known.noteCardStatus("c_1", "CANCELLED", 3);
    expect(await commands.card.reset("c_1", null, "reset-1", now, caller)).toEqual(first);
    await expect(commands.card.reset("c_1", null, "reset-2", now, caller)).rejects.toMatchObject(
      rejection("INVALID_TRANSITION"),
    );
  });

  it("R-PWD-3: an unknown card is still NOT_FOUND", async () => {
    const { commands } = await commandsOn("pwd_unknown");
    await expect(commands.card.verify("c_x", "123456", now, caller)).rejects.toMatchObject(
      rejection("NOT_FOUND"),
    );
  });
});
