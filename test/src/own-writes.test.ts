import { describe, expect, it } from "vitest";
import { codeOf, freshIdNumber, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { contractOperation, graphql, useTestHub, token } from "./support/hub.js";

/**
 * Contract v2, "an answer shows its own effects": a mutation's answer, and the caller's very
 * next request, already show what it caused in the other subgraphs. No test here waits or
 * retries for that; only the recovery of a stopped subgraph is waited for.
 */
const hub = useTestHub({ seed: false });

interface IssuedCard {
  issueCard: {
    card: {
      id: string;
      status: string;
      password: { state: string } | null;
      bankAccount: { id: string; status: string } | null;
    };
  };
}

interface CardOfPerson {
  id: string;
  status: string;
  socialSecurityFunction: { enabled: boolean; channel: string | null };
  password: { state: string } | null;
  bankAccount: { status: string } | null;
}

async function register(): Promise<{ personId: string; idNumber: string }> {
  const idNumber = freshIdNumber();
  const registered = await run<{ registerPerson: { person: { id: string } } }>(
    hub().gateway.url,
    "RegisterPerson",
    { idNumber, name: "即办" },
  );
  expect(registered.errors).toBeUndefined();
  return { personId: registered.data!.registerPerson.person.id, idNumber };
}

async function issue(personId: string) {
  return run<IssuedCard>(hub().gateway.url, "IssueCard", {
    personId,
    province: "44",
    issuingBank: "中国建设银行",
  });
}

/** The person's cards as the next PersonCards request shows them. */
async function cardsOf(idNumber: string): Promise<CardOfPerson[]> {
  const response = await graphql<{ personByIdNumber: { cards: CardOfPerson[] } }>(
    hub().gateway.url,
    await contractOperation("PersonCards"),
    { idNumber },
    await token(),
  );
  expect(response.errors).toBeUndefined();
  return response.data!.personByIdNumber.cards;
}

describe("an answer shows its own effects (contract v2)", () => {
  it("50 times in a row: a card issued right after its holder's registration, with its bank account and initial password in the answer", async () => {
    for (let i = 0; i < 50; i++) {
      const { personId } = await register();
      const issued = await issue(personId);
      expect(issued.errors, `round ${i}`).toBeUndefined();
      expect(
        issued.extensions?.["pendingEffects"],
        `round ${i}: ${JSON.stringify(issued.extensions)}`,
      ).toBeUndefined();
      const card = issued.data!.issueCard.card;
      expect(card.status).toBe("ARCHIVED");
      expect(card.password).toEqual(expect.objectContaining({ state: "INITIAL" }));
      expect(card.bankAccount).toEqual(expect.objectContaining({ status: "NOT_ACTIVATED" }));
    }
  });

  it("R-BANK-2: activateFinancialFunction answers with the social function enabled at BANK_COUNTER, and PersonCards agrees", async () => {
    const { personId, idNumber } = await register();
    const cardId = (await issue(personId)).data!.issueCard.card.id;
    const activated = await run<{
      activateFinancialFunction: {
        bankAccount: { status: string };
        card: {
          id: string;
          status: string;
          socialSecurityFunction: CardOfPerson["socialSecurityFunction"];
        };
      };
    }>(
      hub().gateway.url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "own-a" },
      "BANK_COUNTER",
    );
    expect(activated.errors).toBeUndefined();
    expect(activated.data!.activateFinancialFunction.bankAccount.status).toBe("ACTIVE");
    expect(activated.data!.activateFinancialFunction.card).toMatchObject({
      id: cardId,
      status: "NORMAL",
      socialSecurityFunction: { enabled: true, channel: "BANK_COUNTER" },
    });
    const [card] = await cardsOf(idNumber);
    expect(card).toMatchObject({
      status: "NORMAL",
      socialSecurityFunction: { enabled: true, channel: "BANK_COUNTER" },
      bankAccount: { status: "ACTIVE" },
    });
  });

  it("R-BANK-3: cancelCard answers with the bank account CANCELLATION_REQUIRED, and PersonCards agrees", async () => {
    const { personId, idNumber } = await register();
    const cardId = (await issue(personId)).data!.issueCard.card.id;
    const cancelled = await run<{
      cancelCard: { card: { status: string; bankAccount: { id: string; status: string } } };
    }>(hub().gateway.url, "CancelCard", {
      cardId,
      reason: "holder request",
      idempotencyKey: "own-c",
    });
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data!.cancelCard.card.status).toBe("CANCELLED");
    expect(cancelled.data!.cancelCard.card.bankAccount.status).toBe("CANCELLATION_REQUIRED");
    const [card] = await cardsOf(idNumber);
    expect(card).toMatchObject({
      status: "CANCELLED",
      bankAccount: { status: "CANCELLATION_REQUIRED" },
    });
    // An activation sent right after the cancellation is refused: the account is not activatable.
    const activation = await run(
      hub().gateway.url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "own-c-a" },
      "BANK_COUNTER",
    );
    expect(codeOf(activation)).toBe("INVALID_TRANSITION");
  });

  it("R-PWD-2: changing the initial password answers with the card enabled, and PersonCards agrees", async () => {
    const { personId, idNumber } = await register();
    const cardId = (await issue(personId)).data!.issueCard.card.id;
    const changed = await run<{
      changeCardPassword: {
        result: string;
        card: {
          id: string;
          password: { state: string };
          socialSecurityFunction: CardOfPerson["socialSecurityFunction"];
        };
      };
    }>(
      hub().gateway.url,
      "ChangeCardPassword",
      { cardId, currentPassword: "123456", newPassword: "802615" },
      "PHARMACY",
    );
    expect(changed.errors).toBeUndefined();
    expect(changed.data!.changeCardPassword).toMatchObject({
      result: "OK",
      card: {
        id: cardId,
        password: { state: "SET" },
        socialSecurityFunction: { enabled: true, channel: "PHARMACY" },
      },
    });
    const [card] = await cardsOf(idNumber);
    expect(card).toMatchObject({
      status: "NORMAL",
      socialSecurityFunction: { enabled: true, channel: "PHARMACY" },
      password: { state: "SET" },
    });
  });

  it("a receiving subgraph stopped: the mutation answers OK while it is still down (without waiting for it), names the pending effect, and the effect arrives once it is back", async () => {
    const { personId, idNumber } = await register();
    const cardId = (await issue(personId)).data!.issueCard.card.id;
    await hub().stopSubgraph("bank-accounts");
    try {
      // Answered before bank-accounts is started again (below): the answer does not wait for it.
      const cancelled = await run<{ cancelCard: { card: { id: string; status: string } } }>(
        hub().gateway.url,
        "CancelCard",
        { cardId, reason: "holder request", idempotencyKey: "own-down" },
      );
      expect(cancelled.data!.cancelCard.card).toMatchObject({ id: cardId, status: "CANCELLED" });
      // Only the part the stopped subgraph serves is missing, with a code saying why.
      expect(cancelled.errors?.map((e) => e.extensions?.["code"])).toEqual(["SERVICE_UNAVAILABLE"]);
      expect(cancelled.extensions?.["pendingEffects"]).toEqual([
        { eventId: expect.any(String), type: "CardStatusChanged", destination: "bank-accounts" },
      ]);
    } finally {
      await hub().startSubgraph("bank-accounts");
    }
    await eventually(async () =>
      expect((await cardsOf(idNumber))[0]?.bankAccount?.status).toBe("CANCELLATION_REQUIRED"),
    );
  });
});
