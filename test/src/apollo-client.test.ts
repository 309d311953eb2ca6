import { createHash } from "node:crypto";
import {
  ApolloClient,
  HttpLink,
  InMemoryCache,
  gql,
  type DocumentNode,
  type OperationVariables,
} from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { afterEach, describe, expect, it, vi } from "vitest";
import { channelFetch, type SeenRequest } from "./support/channel-fetch.js";
import { freshIdNumber } from "./support/cards.js";
import { contractOperation, useTestHub } from "./support/hub.js";

const hub = useTestHub({ seed: false });

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
      new HttpLink({ uri: hub().gateway.url, fetch: channelFetch(seen) }),
    ),
  });
}

/** Every entity in an answer (an object with `__typename` and an id), with the fields it carries. */
function entitiesIn(
  value: unknown,
  found: Record<string, unknown>[] = [],
): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) entitiesIn(item, found);
  else if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record["__typename"] === "string" && typeof record["id"] === "string")
      found.push(record);
    for (const child of Object.values(record)) entitiesIn(child, found);
  }
  return found;
}

type Store = Record<string, Record<string, unknown> | undefined>;

/**
 * True when every field of `part` (recursively) is in the normalised cache `store` with the same
 * value: references are followed, a field cached with arguments is found by its name, and a
 * field the cache does not hold disagrees (an answer the cache dropped is what this looks for).
 */
function inStore(part: unknown, stored: unknown, store: Store): boolean {
  if (stored && typeof stored === "object" && "__ref" in stored)
    return inStore(part, store[String((stored as { __ref: unknown }).__ref)], store);
  if (part === null || typeof part !== "object") return part === stored;
  if (!stored || typeof stored !== "object") return false;
  if (Array.isArray(part))
    return (
      Array.isArray(stored) &&
      stored.length === part.length &&
      part.every((item, i) => inStore(item, stored[i], store))
    );
  const fields = stored as Record<string, unknown>;
  return Object.entries(part as Record<string, unknown>).every(([key, value]) => {
    const names = Object.keys(fields).filter((name) => name === key || name.startsWith(`${key}(`));
    return names.length === 1 && inStore(value, fields[names[0]!], store);
  });
}

describe("Apollo Client 4 (InMemoryCache with the documented type policy) runs every contract operation", () => {
  const warnings: unknown[][] = [];
  afterEach(() => vi.restoreAllMocks());

  it("without a cache warning, and the cached PersonCards reflects each mutation without a refetch (duplicate groups refetched as docs/clients.md says)", async () => {
    for (const method of ["warn", "error"] as const)
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        warnings.push(args);
      });
    const seen: SeenRequest[] = [];
    const client = newClient(seen);
    const document = async (name: string) => gql(await contractOperation(name));
    const mutate = async (
      name: string,
      input: Record<string, unknown>,
      /** docs/clients.md: PersonCards is refetched where a mutation changes the duplicate groups. */
      refetchQueries: { query: DocumentNode; variables: OperationVariables }[] = [],
    ) => {
      const result = await client.mutate({
        mutation: await document(name),
        variables: { input },
        refetchQueries,
        awaitRefetchQueries: true,
      });
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
    /**
     * Every entity in a mutation's answer is in the normalised cache with the answer's values, and
     * the cached PersonCards (read from the cache, no request) lists each card, except a card the
     * mutation created: PersonCards lists that one once it is read again.
     */
    const expectCacheHolds = (name: string, answer: unknown, created: string[] = []) => {
      const store = client.cache.extract() as Store;
      const view = cached();
      expect(view, `PersonCards still complete in the cache after ${name}`).not.toBeNull();
      const entities = entitiesIn(answer);
      expect(entities.length, `${name} answers with an entity`).toBeGreaterThan(0);
      for (const entity of entities) {
        const ref = `${String(entity["__typename"])}:${String(entity["id"])}`;
        expect(inStore(entity, { __ref: ref }, store), `${name}: ${ref}`).toBe(true);
        if (entity["__typename"] !== "Card" || created.includes(String(entity["id"]))) continue;
        const mine = view!.personByIdNumber.cards.find((c) => c["id"] === entity["id"]);
        // Listed, it shows the entity just checked: the cached query reads it from the store.
        expect(mine, `${name}: ${ref} in the cached PersonCards`).toBeDefined();
      }
    };
    for (const [name, input] of steps) {
      const answer = await mutate(name, input);
      const created =
        name === "ReplaceCard"
          ? [String((answer["replaceCard"]!["newCard"] as { id: string }).id)]
          : [];
      expectCacheHolds(name, answer, created);
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
    ] as const)
      expectCacheHolds(
        name,
        await mutate(name, input, [{ query: personCards, variables: { idNumber } }]),
      );

    // The cache was right, not merely consistent: what it holds now, read from it alone, equals a
    // fresh read by another client that has no cache (so the fresh answer cannot have been
    // written into the cache compared).
    const persons = await document("PersonsByIds");
    const cachedCards = cached();
    const cachedPersons = client.readQuery({ query: persons, variables: { ids: [personId] } });
    expect(cachedCards).not.toBeNull();
    expect(cachedPersons).not.toBeNull();
    const fresh = newClient([]);
    for (const [query, variables, held] of [
      [personCards, { idNumber }, cachedCards],
      [persons, { ids: [personId] }, cachedPersons],
    ] as const) {
      const answer = await fresh.query({ query, variables, fetchPolicy: "no-cache" });
      expect(answer.error).toBeUndefined();
      expect(held, "the cache, read alone, against a fresh answer").toEqual(answer.data);
    }
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
