import { ensureIdempotencyIndexes, Outbox, type Caller } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { beforeAll, describe, expect, it } from "vitest";
import type { CardDocument } from "../store/card-document.js";
import { CardRepository } from "../store/card-repository.js";
import { PersonRegistry } from "../store/person-registry.js";
import { CardCommands } from "./card-commands.js";
import type { CommandMeta } from "./command-meta.js";

const client = useTestMongo({ monitorCommands: true });
/** Commands the server refused: on a replica set, any failed write aborts its transaction. */
const failedCommands: string[] = [];
beforeAll(() => {
  client().on("commandFailed", (event) => failedCommands.push(event.commandName));
  // A duplicate key comes back as a write error inside a successful reply.
  client().on("commandSucceeded", (event) => {
    if ((event.reply as { writeErrors?: unknown[] }).writeErrors?.length)
      failedCommands.push(event.commandName);
  });
});

const caller: Caller = { sub: "op-1", channel: "COUNTER", scopes: new Set(["cards:write"]) };
const meta = (): CommandMeta => ({
  caller,
  now: new Date("2026-11-25T09:00:00Z"),
  operation: "IssueCard",
  input: {},
  effects: null,
});
const plan = {
  personId: "p_1",
  province: "44",
  issuingBank: "ICBC",
  issuedAt: new Date("2026-11-25T09:00:00Z"),
};

/**
 * A cards database holding one card numbered `taken` in the plan's province, and commands drawing
 * `draws` in turn.
 */
async function cardsWith(taken: string, draws: string[]) {
  const db = client().db(`cards_number_${Math.random().toString(36).slice(2, 10)}`);
  const repository = new CardRepository(db);
  const registry = new PersonRegistry(db);
  const outbox = new Outbox(db, "cards");
  await Promise.all([
    repository.ensureIndexes(),
    outbox.ensureIndexes(),
    ensureIdempotencyIndexes(db),
  ]);
  await registry.add(plan.personId, plan.issuedAt);
  const existing = {
    _id: "c_existing",
    personId: "p_other",
    province: plan.province,
    number: taken,
    issuedAt: plan.issuedAt,
  };
  await repository.cards.insertOne(existing as CardDocument);
  await repository.reserveNumbersOf([existing]);
  let next = 0;
  const commands = new CardCommands(
    repository,
    registry,
    outbox,
    () => draws[next++ % draws.length]!,
  );
  return { repository, commands };
}

describe("issuing a card", () => {
  it("draws again when the number is already on a card, and issues the card with a free one", async () => {
    const { repository, commands } = await cardsWith("A00000001", ["A00000001", "B00000002"]);
    failedCommands.length = 0;
    const { cardId } = await commands.issue(meta(), plan);
    expect(failedCommands).toEqual([]);
    const issued = await repository.cards.findOne({ _id: cardId });
    expect(issued?.number).toBe("B00000002");
    expect(await repository.cards.countDocuments({ number: "A00000001" })).toBe(1);
    expect(await repository.cardNumbers.findOne({ _id: "44:B00000002" })).toMatchObject({
      cardId,
    });
  });

  it("numbers are unique per province: a number taken in another province is issued here", async () => {
    const { repository, commands } = await cardsWith("A00000001", ["A00000001"]);
    const { cardId } = await commands.issue(meta(), { ...plan, province: "51" });
    expect((await repository.cards.findOne({ _id: cardId }))?.number).toBe("A00000001");
    expect(await repository.cardNumbers.countDocuments({})).toBe(2);
  });

  it("fails without writing anything when every draw is taken", async () => {
    const { repository, commands } = await cardsWith("A00000001", ["A00000001"]);
    await expect(commands.issue(meta(), plan)).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      message: expect.stringMatching(
        /5 card numbers drawn in a row for province 44 were all taken/,
      ),
    });
    expect(await repository.cards.countDocuments({})).toBe(1);
    expect(await repository.cardNumbers.countDocuments({})).toBe(1);
    expect(await repository.events.countDocuments({})).toBe(0);
    expect((await new PersonRegistry(repository.db).find(plan.personId))?.issuing).toBeUndefined();
  });
});
