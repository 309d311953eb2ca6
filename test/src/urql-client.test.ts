import { cacheExchange, Client, fetchExchange, gql } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { describe, expect, it } from "vitest";
import { channelFetch, type SeenRequest } from "./support/channel-fetch.js";
import { freshIdNumber } from "./support/cards.js";
import { contractOperation, useTestHub } from "./support/hub.js";

const hub = useTestHub({ seed: false });

/** urql as a front-end sets it up: its persisted exchange (POST and GET) before fetch. */
function newClient(seen: SeenRequest[], preferGet: boolean) {
  return new Client({
    url: hub().gateway.url,
    fetch: channelFetch(seen),
    exchanges: [
      cacheExchange,
      persistedExchange({ preferGetForPersistedQueries: preferGet }),
      fetchExchange,
    ],
  });
}

describe("urql with its persisted exchange", () => {
  for (const preferGet of [false, true])
    it(`the first use registers the query, the second sends only its hash (${preferGet ? "GET" : "POST"})`, async () => {
      const seen: SeenRequest[] = [];
      const idNumber = freshIdNumber();
      const writer = newClient(seen, false);
      const registered = await writer
        .mutation(gql(await contractOperation("RegisterPerson")), {
          input: { idNumber, name: "乌拉人" },
        })
        .toPromise();
      expect(registered.error).toBeUndefined();

      // A document this gateway has not seen yet, so its first use is a registration.
      const query = gql(
        (await contractOperation("PersonCards")).replace(
          "query PersonCards",
          `query PersonCardsUrql${preferGet ? "Get" : "Post"}`,
        ),
      );
      seen.length = 0;
      const first = await newClient(seen, preferGet)
        .query(query, { idNumber }, { requestPolicy: "network-only" })
        .toPromise();
      expect(first.error).toBeUndefined();
      expect(first.data.personByIdNumber.idNumber).toHaveLength(18);
      expect(seen.map((s) => s.withQuery)).toEqual([false, true]);

      seen.length = 0;
      const second = await newClient(seen, preferGet)
        .query(query, { idNumber }, { requestPolicy: "network-only" })
        .toPromise();
      expect(second.error).toBeUndefined();
      expect(second.data).toEqual(first.data);
      expect(seen.map((s) => s.withQuery)).toEqual([false]);
      expect(seen[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    });
});
