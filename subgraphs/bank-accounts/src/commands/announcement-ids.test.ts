import { Inbox, type HubEvent } from "@hub/kit";
import { useTestMongo } from "@hub/kit/testing";
import { describe, expect, it } from "vitest";
import { buildBankAccountsParts } from "../subgraph.js";

const client = useTestMongo();

const issued = (id: string): HubEvent => ({
  id,
  type: "CardIssued",
  payload: {
    cardId: "c_1",
    personId: "p_1",
    province: "11",
    issuingBank: "中国银行",
    status: "ARCHIVED",
    expiresAt: "2036-01-01T00:00:00.000Z",
    cardVersion: 1,
    replacesId: null,
  },
  actor: "counter",
  channel: "COUNTER",
  occurredAt: new Date().toISOString(),
  source: "cards",
});

/** The ids of the BankAccountStatusChanged events a fresh bank announces for `events`. */
async function announcedFor(events: HubEvent[]) {
  const db = client().db(`bank_ids_${Math.random().toString(36).slice(2, 10)}`);
  const { outbox, handlers } = await buildBankAccountsParts(db);
  expect(await new Inbox("bank-accounts", handlers).applyBatch(events)).toMatchObject({
    failed: null,
  });
  const docs = await outbox.events.find({ type: "BankAccountStatusChanged" }).toArray();
  return [...new Set(docs.map((doc) => doc.eventId))];
}

describe("an announcement a card event causes has an id that follows from that event's", () => {
  it("the same card event applied again (its record gone) announces the same event; another cause, another id", async () => {
    const first = await announcedFor([issued("e-issued")]);
    expect(first).toHaveLength(1);
    // What a redelivery finds once the record of the first application has expired: the same
    // cause, applied afresh.
    expect(await announcedFor([issued("e-issued")])).toEqual(first);
    const other = await announcedFor([issued("e-other")]);
    expect(other).toHaveLength(1);
    expect(other).not.toEqual(first);
  });
});
