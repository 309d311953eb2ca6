import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { freshRepository, now } from "../testing/password-fixtures.js";

const client = useTestMongo();

const repositoryOn = async (name: string) => (await freshRepository(client(), name)).repository;

describe("the card status the passwords subgraph keeps (version-guarded, idempotent)", () => {
  it("R-CARD-10: a status note on a card known from CardIssued records its status and version", async () => {
    const repository = await repositoryOn("note_known");
    await repository.known.cards.add("c_1", now);
    expect(await repository.known.card("c_1")).toEqual({ status: null, personId: null });
    expect(await repository.known.noteCardStatus("c_1", "NORMAL", 2)).toBe(true);
    expect(await repository.known.cardRecords.findOne({ _id: "c_1" })).toEqual({
      _id: "c_1",
      at: now,
      status: "NORMAL",
      cardVersion: 2,
    });
  });

  it("R-CARD-10: an older or replayed note changes nothing (events may arrive twice or out of order)", async () => {
    const repository = await repositoryOn("note_older");
    await repository.known.cards.add("c_1", now);
    expect(await repository.known.noteCardStatus("c_1", "CANCELLED", 5)).toBe(true);
    expect(await repository.known.noteCardStatus("c_1", "NORMAL", 4)).toBe(false);
    expect(await repository.known.noteCardStatus("c_1", "CANCELLED", 5)).toBe(false);
    expect(await repository.known.noteCardStatus("c_1", "ARCHIVED", 1)).toBe(false);
    expect(await repository.known.cardRecords.findOne({ _id: "c_1" })).toMatchObject({
      status: "CANCELLED",
      cardVersion: 5,
    });
    expect(await repository.known.noteCardStatus("c_1", "NORMAL", 6)).toBe(true);
    expect(await repository.known.card("c_1")).toEqual({ status: "NORMAL", personId: null });
  });

  it("R-CARD-10: a note arriving before CardIssued makes the card known; CardIssued keeps the status", async () => {
    const repository = await repositoryOn("note_first");
    expect(await repository.known.cards.has("c_9")).toBe(false);
    expect(await repository.known.noteCardStatus("c_9", "CANCELLED", 3)).toBe(true);
    expect(await repository.known.cards.has("c_9")).toBe(true);
    expect(await repository.known.card("c_9")).toEqual({ status: "CANCELLED", personId: null });
    await repository.known.cards.add("c_9", now);
    expect(await repository.known.card("c_9")).toEqual({ status: "CANCELLED", personId: null });
    expect(await repository.known.cards.has("c_unknown")).toBe(false);
    expect(await repository.known.card("c_unknown")).toBeNull();
  });

  it("R-CARD-10: concurrent notes of one card end with the newest version", async () => {
    const repository = await repositoryOn("note_race");
    const versions = [3, 1, 7, 2, 7, 5, 4, 6];
    await Promise.all(versions.map((v) => repository.known.noteCardStatus("c_1", `S${v}`, v)));
    expect(await repository.known.cardRecords.findOne({ _id: "c_1" })).toEqual({
      _id: "c_1",
      status: "S7",
      cardVersion: 7,
    });
  });
});
