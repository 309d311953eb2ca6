import { Outbox, type Caller } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { PasswordRepository } from "./password-repository.js";
import { PasswordService } from "./password-service.js";

const client = useTestMongo();
const caller: Caller = { sub: "t", channel: "COUNTER", scopes: new Set() };
const now = new Date("2026-12-01T09:00:00Z");

async function repositoryOn(name: string) {
  const db = client().db(`${name}_${Math.random().toString(36).slice(2, 10)}`);
  const repository = new PasswordRepository(db);
  await repository.ensureIndexes();
  return repository;
}

async function serviceOn(name: string) {
  const repository = await repositoryOn(name);
  const outbox = new Outbox(repository.db, "passwords");
  await outbox.ensureIndexes();
  return { repository, service: new PasswordService(repository, outbox, { password: "123456" }) };
}

const rejection = (code: string) => ({ extensions: expect.objectContaining({ code }) });

describe("the card status the passwords subgraph keeps (version-guarded, idempotent)", () => {
  it("R-CARD-10: a status note on a card known from CardIssued records its status and version", async () => {
    const repository = await repositoryOn("note_known");
    await repository.knownCards.add("c_1", now);
    expect(await repository.knownCard("c_1")).toEqual({ status: null });
    expect(await repository.noteCardStatus("c_1", "NORMAL", 2)).toBe(true);
    expect(await repository.knownCardRecords.findOne({ _id: "c_1" })).toEqual({
      _id: "c_1",
      at: now,
      status: "NORMAL",
      cardVersion: 2,
    });
  });

  it("R-CARD-10: an older or replayed note changes nothing (events may arrive twice or out of order)", async () => {
    const repository = await repositoryOn("note_older");
    await repository.knownCards.add("c_1", now);
    expect(await repository.noteCardStatus("c_1", "CANCELLED", 5)).toBe(true);
    expect(await repository.noteCardStatus("c_1", "NORMAL", 4)).toBe(false);
    expect(await repository.noteCardStatus("c_1", "CANCELLED", 5)).toBe(false);
    expect(await repository.noteCardStatus("c_1", "ARCHIVED", 1)).toBe(false);
    expect(await repository.knownCardRecords.findOne({ _id: "c_1" })).toMatchObject({
      status: "CANCELLED",
      cardVersion: 5,
    });
    expect(await repository.noteCardStatus("c_1", "NORMAL", 6)).toBe(true);
    expect(await repository.knownCard("c_1")).toEqual({ status: "NORMAL" });
  });

  it("R-CARD-10: a note arriving before CardIssued makes the card known; CardIssued keeps the status", async () => {
    const repository = await repositoryOn("note_first");
    expect(await repository.knownCards.has("c_9")).toBe(false);
    expect(await repository.noteCardStatus("c_9", "CANCELLED", 3)).toBe(true);
    expect(await repository.knownCards.has("c_9")).toBe(true);
    expect(await repository.knownCard("c_9")).toEqual({ status: "CANCELLED" });
    await repository.knownCards.add("c_9", now);
    expect(await repository.knownCard("c_9")).toEqual({ status: "CANCELLED" });
    expect(await repository.knownCards.has("c_unknown")).toBe(false);
    expect(await repository.knownCard("c_unknown")).toBeNull();
  });

  it("R-CARD-10: concurrent notes of one card end with the newest version", async () => {
    const repository = await repositoryOn("note_race");
    const versions = [3, 1, 7, 2, 7, 5, 4, 6];
    await Promise.all(versions.map((v) => repository.noteCardStatus("c_1", `S${v}`, v)));
    expect(await repository.knownCardRecords.findOne({ _id: "c_1" })).toEqual({
      _id: "c_1",
      status: "S7",
      cardVersion: 7,
    });
  });
});

describe("a cancelled card's password (R-CARD-10, R-PWD-3)", () => {
  it("R-CARD-10 / R-PWD-3: verify, change and reset are INVALID_TRANSITION and count no attempt", async () => {
    const { repository, service } = await serviceOn("pwd_cancelled");
    await repository.knownCards.add("c_1", now);
    await repository.noteCardStatus("c_1", "NORMAL", 2);
    // A wrong entry while the card is in use counts ...
    expect(await service.verifyCard("c_1", "000001", now, caller)).toEqual({
      result: "WRONG",
      attemptsLeft: 5,
    });
    await repository.noteCardStatus("c_1", "CANCELLED", 3);
    // ... and once it is cancelled nothing is counted, changed or reset any more.
    await expect(service.verifyCard("c_1", "000001", now, caller)).rejects.toMatchObject(
      rejection("INVALID_TRANSITION"),
    );
    await expect(service.verifyCard("c_1", "123456", now, caller)).rejects.toMatchObject(
      rejection("INVALID_TRANSITION"),
    );
    await expect(
      service.changeCard("c_1", "123456", "802615", now, caller, null),
    ).rejects.toMatchObject(rejection("INVALID_TRANSITION"));
    await expect(service.resetCard("c_1", null, "reset-1", now, caller)).rejects.toMatchObject(
      rejection("INVALID_TRANSITION"),
    );
    expect(await repository.cardPassword("c_1")).toMatchObject({
      hash: null,
      state: "INITIAL",
      failedAttempts: 1,
    });
    expect(await repository.events.countDocuments({ subject: "c_1" })).toBe(0);
  });

  it("R-PWD-3: a reset replayed after the card was cancelled answers as it did the first time", async () => {
    const { repository, service } = await serviceOn("pwd_cancelled_replay");
    await repository.knownCards.add("c_1", now);
    const first = await service.resetCard("c_1", null, "reset-1", now, caller);
    await repository.noteCardStatus("c_1", "CANCELLED", 3);
    expect(await service.resetCard("c_1", null, "reset-1", now, caller)).toEqual(first);
    await expect(service.resetCard("c_1", null, "reset-2", now, caller)).rejects.toMatchObject(
      rejection("INVALID_TRANSITION"),
    );
  });

  it("R-PWD-3: an unknown card is still NOT_FOUND", async () => {
    const { service } = await serviceOn("pwd_unknown");
    await expect(service.verifyCard("c_x", "123456", now, caller)).rejects.toMatchObject(
      rejection("NOT_FOUND"),
    );
  });
});
