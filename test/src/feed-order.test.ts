import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { splitOperations } from "@hub/gateway/contract-operations";
import { subgraphDatabaseName } from "@hub/kit";
import { SCHEMA_DIR } from "@hub/schema";
import { beforeAll, describe, expect, it } from "vitest";
import { codeOf, personWithCard, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { graphql, token, useTestHub } from "./support/hub.js";

/**
 * CONTRACT.md "Order and delivery": the events of one card come in the order they were
 * committed, whichever subgraph committed them (docs/feed.md "Per-card order"). Each producer's
 * lane to the feed is ordered, but lanes back off and come back independently; here the order in
 * which they come back is forced: the feed is down while a card lives through changes at cards,
 * the bank and passwords; then the feed comes back while cards is still down, so every other
 * producer's lane is delivered before cards' own.
 */

const hub = useTestHub();
let logQuery: string;

beforeAll(async () => {
  const source = await readFile(join(SCHEMA_DIR, "feed.graphql"), "utf8");
  logQuery = splitOperations(source).find((op) => op.name === "CardEventLog")!.document;
});

/** What a producer's outbox still holds for `destination`. */
function pendingFor(producer: string, destination: string): Promise<number> {
  return hub()
    .client.db(subgraphDatabaseName(hub().dbPrefix, producer))
    .collection("outbox")
    .countDocuments({ destination });
}

async function change(operation: string, input: Record<string, unknown>, channel?: "BANK_COUNTER") {
  const answer = await run(hub().gateway.url, operation, input, channel);
  expect(answer.errors, `${operation}: ${String(codeOf(answer))}`).toBeUndefined();
  return answer;
}

describe("per-card order of the status-change feed across producers (issue 25)", () => {
  it("a card's entries from cards, the bank and passwords are logged in commit order, even when the other lanes reach the feed before cards'", async () => {
    await hub().stopSubgraph("feed");
    let cardsStopped = false;
    try {
      const { personId, cardId } = await personWithCard(hub().gateway.url);
      await change(
        "ActivateFinancialFunction",
        { cardId, idempotencyKey: `order-act-${cardId}` },
        "BANK_COUNTER",
      );
      // R-PWD-3: the sixth wrong entry locks the card's password.
      for (let entry = 0; entry < 6; entry++)
        await change("VerifyCardPassword", { cardId, password: "000000" });
      await change("CancelCard", {
        cardId,
        reason: "moved abroad",
        idempotencyKey: `order-cancel-${cardId}`,
      });
      await change(
        "CancelBankAccount",
        { cardId, idempotencyKey: `order-cb-${cardId}` },
        "BANK_COUNTER",
      );
      // Everything the bank and passwords told cards is applied there (the answers waited for it;
      // checked so that a slow machine does not turn this into a test of that wait).
      await eventually(async () => {
        expect(await pendingFor("bank-accounts", "cards")).toBe(0);
        expect(await pendingFor("passwords", "cards")).toBe(0);
      }, 30_000);

      // Cards' lane cannot deliver while cards is down; the feed comes back, and every other
      // lane that holds something for it delivers first.
      await hub().stopSubgraph("cards");
      cardsStopped = true;
      await hub().startSubgraph("feed");
      await eventually(async () => {
        expect(await pendingFor("bank-accounts", "feed")).toBe(0);
        expect(await pendingFor("passwords", "feed")).toBe(0);
      }, 60_000);
      await hub().startSubgraph("cards");
      cardsStopped = false;

      const expected = [
        "CARD_ISSUED",
        "FINANCIAL_FUNCTION_ACTIVATED",
        "SOCIAL_SECURITY_FUNCTION_ENABLED",
        "CARD_PASSWORD_LOCKED",
        "CARD_CANCELLED",
        "BANK_ACCOUNT_CANCELLED",
      ];
      const logged = await eventually(async () => {
        const answer = await graphql<{
          cardEventLog: { events: { type: string; card: { id: string } | null }[] };
        }>(hub().gateway.url, logQuery, { personId, first: 100 }, await token());
        expect(answer.errors).toBeUndefined();
        const events = answer.data!.cardEventLog.events;
        expect(events.length).toBeGreaterThanOrEqual(expected.length);
        return events;
      }, 60_000);
      expect(logged.map((event) => event.type)).toEqual(expected);
      expect(logged.every((event) => event.card?.id === cardId)).toBe(true);
    } finally {
      if (cardsStopped) await hub().startSubgraph("cards");
      if (!hub().subgraphs.has("feed")) await hub().startSubgraph("feed");
    }
  }, 180_000);
});
