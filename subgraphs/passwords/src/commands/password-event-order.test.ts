import { DatabaseClock, Outbox } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { passwordCommands } from "./password-commands.js";
import { caller, freshRepository, initialCardPassword, now } from "../testing/password-fixtures.js";

const client = useTestMongo();

/** A replica's clock reading `aheadMs` later than this machine's (the server tells no time). */
const clockAhead = (aheadMs: number) =>
  new DatabaseClock(
    async () => undefined,
    () => Date.now() + aheadMs,
  );

describe("a card password's events leave in the order they were made, whichever replica made them", () => {
  it("R-PWD-3: a lock by a replica whose clock runs a minute ahead, then a reset by another: the lane to cards holds the lock first", async () => {
    const { db, repository } = await freshRepository(client(), "pwd_order");
    const replica = (aheadMs: number) =>
      passwordCommands(repository, new Outbox(db, "passwords", { clock: clockAhead(aheadMs) }), {
        password: "123456",
      });
    const [a, b] = [replica(60_000), replica(0)];
    await new Outbox(db, "passwords").ensureIndexes();
    await initialCardPassword(repository, "c_1", 5);
    expect(await a.card.verify("c_1", "000000", now, caller)).toEqual({
      result: "LOCKED",
      attemptsLeft: 0,
    });
    await b.card.reset("c_1", null, null, now, caller);
    const lane = await db
      .collection("outbox")
      .find({ destination: "cards" })
      .sort({ enqueuedAt: 1, _id: 1 })
      .toArray();
    expect(lane.map((doc) => (doc["payload"] as { change: string }).change)).toEqual([
      "LOCKED",
      "RESET",
    ]);
    // The password's document records the last stamp, which the next event follows.
    expect(
      (await repository.cardPasswords.collection.findOne({ _id: "c_1" }))?.enqueuedThrough,
    ).toEqual(lane[1]!["enqueuedAt"]);
  });
});
