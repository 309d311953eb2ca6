import { DeadLetters, subgraphDatabaseName, type OutboxDocument } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { eventsCommand } from "@hub/harness/cli";

const client = useTestMongo();

describe("npm run events: the operator's dead letters", () => {
  it("lists every subgraph's dead letters and redelivers one to the end of its outbox", async () => {
    const prefix = `ev${Date.now().toString(36)}`;
    const db = client().db(subgraphDatabaseName(prefix, "bank-accounts"));
    const outbox = db.collection<OutboxDocument>("outbox");
    const event: OutboxDocument = {
      _id: "e1:cards",
      eventId: "e1",
      destination: "cards",
      type: "FinancialFunctionActivated",
      payload: { cardId: "c1", agent: null, accountVersion: 2 },
      actor: "clerk",
      channel: "BANK_COUNTER",
      source: "bank-accounts",
      occurredAt: new Date(),
      enqueuedAt: new Date(0),
      attempts: 9,
      lastError: null,
    };
    await outbox.insertOne(event);
    await new DeadLetters(db, outbox).bury({ ...event, attempts: 10 }, "card store refused");
    expect(await outbox.countDocuments()).toBe(0);

    const listed = await eventsCommand(client(), prefix, ["dead-letters"]);
    expect(listed.code).toBe(0);
    expect(listed.lines).toHaveLength(1);
    expect(listed.lines[0]).toContain("e1:cards");
    expect(listed.lines[0]).toContain("bank-accounts → cards");
    expect(listed.lines[0]).toContain("error: card store refused");

    expect((await eventsCommand(client(), prefix, ["redeliver", "nope"])).code).toBe(1);
    const redelivered = await eventsCommand(client(), prefix, ["redeliver", "e1"]);
    expect(redelivered.code).toBe(0);
    const back = await outbox.findOne({ _id: "e1:cards" });
    expect(back).toMatchObject({
      attempts: 0,
      lastError: null,
      type: "FinancialFunctionActivated",
    });
    // At the end of its lane: enqueued now, not at its first time.
    expect(back!.enqueuedAt.getTime()).toBeGreaterThan(0);
    expect((await eventsCommand(client(), prefix, ["dead-letters"])).lines).toEqual([
      "no dead letters",
    ]);
    expect((await eventsCommand(client(), prefix, [])).code).toBe(2);
  });
});
