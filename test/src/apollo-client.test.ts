import { createHash } from "node:crypto";
import {
  ApolloClient,
  HttpLink,
  InMemoryCache,
  gql,
  type OperationVariables,
} from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { channelFetch, type SeenRequest } from "./support/channel-fetch.js";
import { freshIdNumber } from "./support/cards.js";
import { contractOperation, startTestHub, type TestHub } from "./support/hub.js";

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ seed: false });
});
afterAll(async () => {
  await hub?.stop();
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * The one type policy docs/clients.md asks for: a person's duplicate groups are computed from their
 * cards and always replace the list cached before (they have no id of their own to merge by).
 */
const HUB_TYPE_POLICIES = { Person: { fields: { duplicates: { merge: false } } } };

/** Apollo Client 4 as a front-end sets it up: persisted queries, a normalised cache. */
function newClient(seen: SeenRequest[]) {
  return new ApolloClient({
    cache: new InMemoryCache({ typePolicies: HUB_TYPE_POLICIES }),
    link: new PersistedQueryLink({ sha256 }).concat(
      new HttpLink({ uri: hub.gateway.url, fetch: channelFetch(seen) }),
    ),
  });
}

/** Every object in an answer with `__typename` Card and an id, with the fields it carries. */
function cardsIn(value: unknown, found: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) cardsIn(item, found);
  else if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record["__typename"] === "Card" && typeof record["id"] === "string") found.push(record);
    for (const child of Object.values(record)) cardsIn(child, found);
  }
  return found;
}

/** True when every field of `part` (recursively) has the same value in `whole`. */
function agrees(part: unknown, whole: unknown): boolean {
  if (part === null || typeof part !== "object") return part === whole;
  if (!whole || typeof whole !== "object") return false;
  return Object.entries(part as Record<string, unknown>).every(
    ([key, value]) =>
      !(key in (whole as Record<string, unknown>)) ||
      agrees(value, (whole as Record<string, unknown>)[key]),
  );
}

describe("Apollo Client 4 (InMemoryCache with the documented type policy) runs every contract operation", () => {
  const warnings: unknown[][] = [];
  afterEach(() => vi.restoreAllMocks());

  it("without a cache warning, and the cached PersonCards reflects each mutation without a refetch", async () => {
    for (const method of ["warn", "error"] as const)
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        warnings.push(args);
      });
    const seen: SeenRequest[] = [];
    const client = newClient(seen);
    const document = async (name: string) => gql(await contractOperation(name));
    const mutate = async (name: string, input: Record<string, unknown>) => {
      const result = await client.mutate({ mutation: await document(name), variables: { input } });
      expect(result.error, name).toBeUndefined();
      return result.data as Record<string, Record<string, unknown>>;
    };

    const idNumber = freshIdNumber();
    const registered = await mutate("RegisterPerson", { idNumber, name: "缓存人" });
    const personId = (registered["registerPerson"]!["person"] as { id: string }).id;
    const issued = await mutate("IssueCard", {
      personId,
      province: "44",
      issuingBank: "中国工商银行",
    });
    const cardId = (issued["issueCard"]!["card"] as { id: string }).id;

    const personCards = await document("PersonCards");
    const cached = () =>
      client.readQuery<{ personByIdNumber: { cards: Record<string, unknown>[] } }>({
        query: personCards,
        variables: { idNumber },
      });
    const read = async (name: string, variables: OperationVariables) => {
      const result = await client.query({ query: await document(name), variables });
      expect(result.error, name).toBeUndefined();
      return result.data;
    };
    await read("PersonCards", { idNumber });
    await read("PersonsByIds", { ids: [personId] });
    await read("PersonById", { id: personId });
    await read("CardHistory", { cardId });
    // Reading other selections of the same person left the cached PersonCards whole.
    expect(cached()?.personByIdNumber.cards.map((c) => c["id"])).toEqual([cardId]);

    const steps: [string, Record<string, unknown>][] = [
      ["CollectCard", { cardId }],
      ["ChangeCardPassword", { cardId, currentPassword: "123456", newPassword: "802615" }],
      ["EnableSocialSecurityFunction", { cardId }],
      ["VerifyCardPassword", { cardId, password: "802615" }],
      ["ResetCardPassword", { cardId, idempotencyKey: "apollo-reset" }],
      ["SetElectronicCardPassword", { personId, newPassword: "394857" }],
      ["VerifyElectronicCardPassword", { personId, password: "394857" }],
      ["IssueElectronicCard", { cardId, faceMatched: true }],
      ["ReportCardLoss", { cardId, temporary: true }],
      ["WithdrawLossReport", { cardId }],
      ["ActivateFinancialFunction", { cardId, idempotencyKey: "apollo-activate" }],
      ["ReplaceCard", { cardId, reason: "STAINED", idempotencyKey: "apollo-replace" }],
    ];
    for (const [name, input] of steps) {
      const answer = await mutate(name, input);
      const view = cached();
      expect(view, `PersonCards still complete in the cache after ${name}`).not.toBeNull();
      for (const card of cardsIn(answer)) {
        const mine = view!.personByIdNumber.cards.find((c) => c["id"] === card["id"]);
        if (mine) expect(agrees(card, mine), `${name}: card ${String(card["id"])}`).toBe(true);
      }
    }
    const replaced = cached()!.personByIdNumber.cards.find((c) => c["id"] === cardId)!;
    expect(replaced["status"]).toBe("CANCELLED");
    // The replacement card: cancelled, then its bank account closed at the bank counter.
    const newCardId = (
      (
        await client.query({
          query: personCards,
          variables: { idNumber },
          fetchPolicy: "network-only",
        })
      ).data as { personByIdNumber: { cards: { id: string }[] } }
    ).personByIdNumber.cards.find((c) => c.id !== cardId)!.id;
    for (const [name, input] of [
      [
        "CancelCard",
        { cardId: newCardId, reason: "holder request", idempotencyKey: "apollo-cancel" },
      ],
      ["CancelBankAccount", { cardId: newCardId, idempotencyKey: "apollo-bank" }],
    ] as const) {
      const answer = await mutate(name, input);
      for (const card of cardsIn(answer)) {
        const mine = cached()!.personByIdNumber.cards.find((c) => c["id"] === card["id"]);
        expect(mine, `${name}: card ${String(card["id"])} cached`).toBeDefined();
        expect(agrees(card, mine), `${name}: card ${String(card["id"])}`).toBe(true);
      }
    }

    // A fresh read agrees with the cache (the cache was right, not merely consistent).
    const requestsBefore = seen.length;
    const fresh = await client.query({
      query: personCards,
      variables: { idNumber },
      fetchPolicy: "network-only",
    });
    expect(seen.length).toBe(requestsBefore + 1);
    const again = await read("PersonsByIds", { ids: [personId] });
    expect(again).toBeTruthy();
    expect(agrees(cached(), fresh.data)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it("PersistedQueryLink: the first use registers the query, the second sends only its hash", async () => {
    const seen: SeenRequest[] = [];
    const client = newClient(seen);
    // A document this gateway has not seen yet (the test above registered the contract's).
    const query = gql(
      (await contractOperation("PersonById")).replace("query PersonById", "query PersonByIdOnce"),
    );
    const variables = { id: "p_does_not_exist" };
    const first = await client.query({ query, variables, fetchPolicy: "network-only" });
    expect(first.error).toBeUndefined();
    expect(first.data).toEqual({ person: null });
    // The hash alone (unknown), then the hash with the query.
    expect(seen.map((s) => s.withQuery)).toEqual([false, true]);
    expect(seen[0]!.status).toBe(400);
    const second = newClient(seen);
    const again = await second.query({ query, variables, fetchPolicy: "network-only" });
    expect(again.data).toEqual({ person: null });
    expect(seen.slice(2).map((s) => s.withQuery)).toEqual([false]);
  });
});
