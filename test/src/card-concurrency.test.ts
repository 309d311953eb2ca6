import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { codeOf, freshIdNumber, personWithCard, run } from "./support/cards.js";
import { useTestHub } from "./support/hub.js";

const hub = useTestHub({ seed: false });

interface StoredCard {
  _id: string;
  personId: string;
  status: string;
  replacesId: string | null;
  replacedById: string | null;
}
const cardsOf = (personId: string) =>
  hub()
    .client.db(`${hub().dbPrefix}_cards`)
    .collection<StoredCard>("cards")
    .find({ personId })
    .toArray();

describe("idempotency and concurrency of card mutations", () => {
  it("a replay with the same key returns the first result and changes nothing; the same key with other input is a CONFLICT", async () => {
    const { cardId, personId } = await personWithCard(hub().gateway.url);
    const input = { cardId, reason: "STAINED", idempotencyKey: "same-key" };
    const first = await run(hub().gateway.url, "ReplaceCard", input);
    const second = await run(hub().gateway.url, "ReplaceCard", input);
    expect(first.errors).toBeUndefined();
    expect(second).toEqual(first);
    expect(await cardsOf(personId)).toHaveLength(2);
    const different = await run(hub().gateway.url, "ReplaceCard", { ...input, reason: "CRACKED" });
    expect(codeOf(different)).toBe("CONFLICT");
    // a key is unique per channel: another channel's same key is another request
    const other = await run(
      hub().gateway.url,
      "ReplaceCard",
      { cardId, reason: "STAINED", idempotencyKey: "same-key" },
      "WEBSITE",
    );
    expect(codeOf(other)).toBe("INVALID_TRANSITION");
    expect(await cardsOf(personId)).toHaveLength(2);
  });

  it("20 concurrent replaceCard calls with different keys: exactly one new card, the others INVALID_TRANSITION or CONFLICT", async () => {
    const { cardId, personId } = await personWithCard(hub().gateway.url);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        run(hub().gateway.url, "ReplaceCard", { cardId, reason: "LOST", idempotencyKey: `k-${i}` }),
      ),
    );
    const winners = answers.filter((a) => !a.errors);
    expect(winners).toHaveLength(1);
    for (const loser of answers.filter((a) => a.errors))
      expect(["INVALID_TRANSITION", "CONFLICT"]).toContain(codeOf(loser));
    const cards = await cardsOf(personId);
    expect(cards).toHaveLength(2);
    const replacement = cards.find((c) => c._id !== cardId)!;
    expect(replacement.replacesId).toBe(cardId);
    expect(cards.find((c) => c._id === cardId)!.replacedById).toBe(replacement._id);
  });

  it("20 concurrent calls with the same key: one new card and 20 identical answers", async () => {
    const { cardId, personId } = await personWithCard(hub().gateway.url);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        run(hub().gateway.url, "ReplaceCard", {
          cardId,
          reason: "HUMAN_DAMAGE",
          idempotencyKey: "one-key",
        }),
      ),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]!.errors).toBeUndefined();
    expect(await cardsOf(personId)).toHaveLength(2);
  });

  it("R-CARD-9 property: after any sequence of replacements and other commands, replaced cards and replacements point at each other", async () => {
    const { personId, cardId } = await personWithCard(hub().gateway.url, { province: "51" });
    let key = 0;
    const command = fc.oneof(
      fc.constant(["ReplaceCard", { reason: "LOST" }, "COUNTER"] as const),
      fc.constant([
        "ReplaceCard",
        { reason: "QUALITY_DEFECT", instant: true },
        "BANK_COUNTER",
      ] as const),
      fc.constant(["ReportCardLoss", { temporary: true }, "APP"] as const),
      fc.constant(["WithdrawLossReport", {}, "COUNTER"] as const),
      fc.constant(["CancelCard", { reason: "r" }, "COUNTER"] as const),
      fc.constant(["EnableSocialSecurityFunction", {}, "PHARMACY"] as const),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(command, fc.nat(5)), { minLength: 1, maxLength: 6 }),
        async (steps) => {
          for (const [[operation, extra, channel], pick] of steps) {
            const cards = await cardsOf(personId);
            const target = cards[pick % cards.length]!._id;
            await run(
              hub().gateway.url,
              operation,
              { cardId: target, ...extra, idempotencyKey: `p-${key++}` },
              channel,
            );
          }
          const cards = await cardsOf(personId);
          const byId = new Map(cards.map((c) => [c._id, c]));
          for (const card of cards) {
            if (card.replacedById) {
              expect(card.status).toBe("CANCELLED");
              expect(byId.get(card.replacedById)?.replacesId).toBe(card._id);
            }
            if (card.replacesId) expect(byId.get(card.replacesId)?.replacedById).toBe(card._id);
          }
        },
      ),
      { numRuns: 8 },
    );
    expect(cardId).toMatch(/^c_/);
  });

  it("R-DUP-1 without a transaction: 12 concurrent issueCard calls for one person and province leave one card; the others are CONFLICT naming it", async () => {
    const registered = await run<{ registerPerson: { person: { id: string } } }>(
      hub().gateway.url,
      "RegisterPerson",
      { idNumber: freshIdNumber(), name: "并发人" },
    );
    const personId = registered.data!.registerPerson.person.id;
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        run<{ issueCard: { card: { id: string } } }>(hub().gateway.url, "IssueCard", {
          personId,
          province: "44",
          issuingBank: "中国工商银行",
          idempotencyKey: `issue-${i}`,
        }),
      ),
    );
    const winners = answers.filter((a) => !a.errors);
    expect(winners).toHaveLength(1);
    const cardId = winners[0]!.data!.issueCard.card.id;
    for (const loser of answers.filter((a) => a.errors)) {
      expect(codeOf(loser)).toBe("CONFLICT");
      expect(loser.errors![0]!.extensions?.["cardId"]).toBe(cardId);
    }
    expect((await cardsOf(personId)).map((c) => c._id)).toEqual([cardId]);
  });

  it("12 concurrent issueCard calls with one key: one card, 12 identical answers", async () => {
    const registered = await run<{ registerPerson: { person: { id: string } } }>(
      hub().gateway.url,
      "RegisterPerson",
      { idNumber: freshIdNumber(), name: "并发人" },
    );
    const personId = registered.data!.registerPerson.person.id;
    const input = { personId, province: "44", issuingBank: "中国工商银行", idempotencyKey: "one" };
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => run(hub().gateway.url, "IssueCard", input)),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]!.errors).toBeUndefined();
    expect(await cardsOf(personId)).toHaveLength(1);
  });

  it("12 concurrent registrations of one identity number with one key: one person, identical answers; with other keys: CONFLICT", async () => {
    const idNumber = freshIdNumber();
    const input = { idNumber, name: "并发人", idempotencyKey: "reg-one" };
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => run(hub().gateway.url, "RegisterPerson", input)),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]!.errors).toBeUndefined();
    const others = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        run(hub().gateway.url, "RegisterPerson", {
          idNumber,
          name: "并发人",
          idempotencyKey: `reg-${i}`,
        }),
      ),
    );
    for (const other of others) expect(codeOf(other)).toBe("CONFLICT");
    expect(
      await hub()
        .client.db(`${hub().dbPrefix}_persons`)
        .collection("persons")
        .countDocuments({ idNumber }),
    ).toBe(1);
  });

  it("single-card commands racing a replacement (a transaction) lose no update: the card ends replaced and cancelled, its history holds every change that answered OK", async () => {
    for (let round = 0; round < 5; round++) {
      const { cardId, personId } = await personWithCard(hub().gateway.url);
      await run(hub().gateway.url, "CollectCard", { cardId });
      const [replace, ...others] = await Promise.all([
        run(hub().gateway.url, "ReplaceCard", {
          cardId,
          reason: "STAINED",
          idempotencyKey: `race-${round}`,
        }),
        run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true }),
        run(hub().gateway.url, "EnableSocialSecurityFunction", { cardId }),
        run(hub().gateway.url, "WithdrawLossReport", { cardId }),
      ]);
      expect(replace!.errors).toBeUndefined();
      const stored = await hub()
        .client.db(`${hub().dbPrefix}_cards`)
        .collection<StoredCard & { history: { type: string }[] }>("cards")
        .findOne({ _id: cardId });
      expect(stored!.status).toBe("CANCELLED");
      expect(stored!.replacedById).toBeTruthy();
      const types = stored!.history.map((h) => h.type);
      expect(types).toContain("REPLACED");
      const ok = others.filter((a) => !a.errors).length;
      // issued, collected, replaced, and one entry per other command that answered OK
      expect(types.length).toBe(3 + ok);
      expect(await cardsOf(personId)).toHaveLength(2);
    }
  });
});
