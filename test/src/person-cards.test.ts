import { describe, expect, it } from "vitest";
import { isRelayCommand, maskAccountNumber, maskIdNumber } from "@hub/kit";
import { contractOperation, graphql, useTestHub, token } from "./support/hub.js";

interface CardView {
  id: string;
  number: string;
  province: string;
  status: string;
  issuingBank: string;
  password: { state: string; failedAttempts: number };
  bankAccount: { id: string; bank: string; accountNumber: string; status: string } | null;
  replaces: { id: string } | null;
  replacedBy: { id: string } | null;
  electronicCard: { channel: string; availability: string } | null;
}
interface PersonCardsData {
  personByIdNumber: {
    id: string;
    idNumber: string;
    name: string;
    cards: CardView[];
    duplicates: {
      province: string;
      cards: { id: string }[];
      actions: { cardId: string; action: string }[];
    }[];
    electronicCardPassword: { state: string; lockedUntil: string | null };
  } | null;
}

const hub = useTestHub();

/** A demo person by its showcase role (demo-data.ts `showcase`). */
function showcasePerson(role: "duplicates" | "replaced") {
  const demo = hub().demo!;
  return demo.persons.find((p) => p._id === demo.showcase[role])!;
}

/** The contract's PersonCards for `idNumber` (with a full-scope test token unless `bearer`). */
async function personCards(idNumber: string, bearer?: string) {
  return graphql<PersonCardsData>(
    hub().gateway.url,
    await contractOperation("PersonCards"),
    { idNumber },
    bearer ?? (await token()),
  );
}

describe("PersonCards through the gateway", () => {
  it("answers fields owned by all four subgraphs, correct for the person", async () => {
    const demo = hub().demo!;
    const person = showcasePerson("duplicates");
    const result = await personCards(person.idNumber);
    expect(result.errors).toBeUndefined();
    const answer = result.data!.personByIdNumber!;
    // persons subgraph
    expect(answer).toMatchObject({ id: person._id, idNumber: person.idNumber, name: person.name });
    // cards subgraph
    const stored = demo.cards.filter((c) => c.personId === person._id);
    expect(answer.cards.map((c) => c.id).sort()).toEqual(stored.map((c) => c._id).sort());
    for (const card of answer.cards) {
      const doc = stored.find((c) => c._id === card.id)!;
      expect(card).toMatchObject({
        number: doc.number,
        province: doc.province,
        issuingBank: doc.issuingBank,
        status: doc.status,
      });
      // bank-accounts subgraph
      const account = demo.bankAccounts.find((a) => a.cardId === card.id)!;
      expect(card.bankAccount).toEqual({
        id: account._id,
        bank: account.bank,
        accountNumber: account.accountNumber,
        status: account.status,
      });
      // passwords subgraph: no stored record means the initial password
      const password = demo.cardPasswords.find((p) => p._id === card.id);
      expect(card.password.state).toBe(password?.state ?? "INITIAL");
      expect(card.password.failedAttempts).toBe(password?.failedAttempts ?? 0);
    }
    expect(answer.duplicates).toHaveLength(1);
    expect(answer.duplicates[0]!.province).toBe("44");
    expect(answer.electronicCardPassword.state).toBe(
      demo.electronicPasswords.some((p) => p._id === person._id) ? "SET" : "NOT_SET",
    );
  });

  it("R-DUP-1, R-DUP-2: the duplicates and what to do with each come in the same query as the cards", async () => {
    const person = showcasePerson("duplicates");
    const result = await personCards(person.idNumber);
    const answer = result.data!.personByIdNumber!;
    const guangdong = answer.cards.filter((c) => c.province === "44");
    expect(answer.duplicates).toEqual([
      {
        province: "44",
        cards: guangdong.map((c) => ({ id: c.id, status: c.status })),
        actions: expect.arrayContaining([
          expect.objectContaining({
            cardId: guangdong.find((c) => c.status === "LOST")!.id,
            action: "CANCEL_BANK_ACCOUNT_AT_COUNTER",
          }),
          expect.objectContaining({
            cardId: guangdong.find((c) => c.status === "NORMAL")!.id,
            action: "KEEP",
          }),
        ]),
      },
    ]);
  });

  it("R-CARD-1: a card carries its social security function and its financial function (the partner bank's account) in one answer", async () => {
    const person = showcasePerson("duplicates");
    const result = await graphql<{
      personByIdNumber: {
        cards: {
          issuingBank: string;
          socialSecurityFunction: { enabled: boolean };
          bankAccount: { bank: string };
        }[];
      };
    }>(
      hub().gateway.url,
      "query($n: String!) { personByIdNumber(idNumber: $n) { cards { issuingBank socialSecurityFunction { enabled } bankAccount { bank } } } }",
      { n: person.idNumber },
      await token(),
    );
    for (const card of result.data!.personByIdNumber.cards) {
      expect(typeof card.socialSecurityFunction.enabled).toBe("boolean");
      // the account is held by the bank whose logo is on the card
      expect(card.bankAccount.bank).toBe(card.issuingBank);
    }
  });

  it("links a replaced card pair both ways", async () => {
    const person = showcasePerson("replaced");
    const result = await personCards(person.idNumber);
    const cards = result.data!.personByIdNumber!.cards;
    const old = cards.find((c) => c.status === "CANCELLED")!;
    const replacement = cards.find((c) => c.id !== old.id)!;
    expect(old.replacedBy?.id).toBe(replacement.id);
    expect(replacement.replaces?.id).toBe(old.id);
  });

  it("R-ID-3: masks identity and account numbers for a caller without pii:read, in every subgraph", async () => {
    const demo = hub().demo!;
    const person = showcasePerson("duplicates");
    const result = await personCards(person.idNumber, await token({ scopes: ["cards:read"] }));
    const answer = result.data!.personByIdNumber!;
    expect(answer.idNumber).toBe(maskIdNumber(person.idNumber));
    expect(answer.idNumber).toMatch(/^\d{4}\*{10}[\dX]{4}$/);
    for (const card of answer.cards) {
      const account = demo.bankAccounts.find((a) => a.cardId === card.id)!;
      expect(card.bankAccount!.accountNumber).toBe(maskAccountNumber(account.accountNumber));
      expect(card.bankAccount!.accountNumber).not.toBe(account.accountNumber);
    }
  });

  it("R-CARD-5, R-CARD-7: derived flags through the gateway — overdue activation, renewal due, expired", async () => {
    const demo = hub().demo!;
    const query = await contractOperation("PersonCards");
    const cardsOf = async (personId: string) => {
      const person = demo.persons.find((p) => p._id === personId)!;
      const result = await graphql<{
        personByIdNumber: {
          cards: {
            status: string;
            renewalDue: boolean;
            socialSecurityFunction: { activationOverdue: boolean };
          }[];
        };
      }>(hub().gateway.url, query, { idNumber: person.idNumber }, await token());
      return result.data!.personByIdNumber.cards;
    };
    expect((await cardsOf(demo.showcase.activationOverdue))[0]).toMatchObject({
      status: "ARCHIVED",
      socialSecurityFunction: { activationOverdue: true },
    });
    expect((await cardsOf(demo.showcase.renewalDue))[0]).toMatchObject({
      status: "NORMAL",
      renewalDue: true,
    });
    expect((await cardsOf(demo.showcase.expired))[0]).toMatchObject({
      status: "EXPIRED",
      renewalDue: false,
    });
  });

  it("R-CARD-6: status queries say contributions are unaffected and never say blocked", async () => {
    const person = hub().demo!.persons.find(
      (p) => p._id === hub().demo!.showcase.activationOverdue,
    )!;
    const result = await graphql<{ personByIdNumber: { cards: { statusNote: string }[] } }>(
      hub().gateway.url,
      "query($n: String!) { personByIdNumber(idNumber: $n) { cards { statusNote } } }",
      { n: person.idNumber },
      await token(),
    );
    const note = result.data!.personByIdNumber.cards[0]!.statusNote;
    expect(note).toMatch(/Contributions are paid and recorded as usual/);
    expect(note.toLowerCase()).not.toMatch(/block/);
  });

  it("the demo data shows every card status, password state and bank account status", async () => {
    const ids = hub().demo!.persons.map((p) => p._id);
    const result = await graphql<{
      persons: {
        cards: {
          status: string;
          password: { state: string };
          bankAccount: { status: string } | null;
        }[];
      }[];
    }>(hub().gateway.url, await contractOperation("PersonsByIds"), { ids }, await token());
    const cards = result.data!.persons.flatMap((p) => p.cards);
    expect(new Set(cards.map((c) => c.status))).toEqual(
      new Set(["ARCHIVED", "NORMAL", "TEMPORARY_LOSS", "LOST", "CANCELLED", "EXPIRED"]),
    );
    expect(new Set(cards.map((c) => c.password.state))).toEqual(
      new Set(["INITIAL", "SET", "LOCKED"]),
    );
    expect(new Set(cards.map((c) => c.bankAccount?.status))).toEqual(
      new Set(["NOT_ACTIVATED", "ACTIVE", "LOSS_REPORTED", "CANCELLATION_REQUIRED", "CANCELLED"]),
    );
  });
});

describe("identical PersonCards requests in flight at the same moment", () => {
  it("are answered from one execution for one token: no more database commands than a single request", async () => {
    const person = showcasePerson("duplicates");
    const query = await contractOperation("PersonCards");
    const bearer = await token();
    const ask = () =>
      graphql<PersonCardsData>(hub().gateway.url, query, { idNumber: person.idNumber }, bearer);
    const queryCommands = () =>
      hub().commands.filter((e) => !isRelayCommand(e.commandName, e.command)).length;

    hub().commands.length = 0;
    const single = await ask();
    const singleCommands = queryCommands();
    expect(single.errors).toBeUndefined();

    hub().commands.length = 0;
    const answers = await Promise.all(Array.from({ length: 10 }, ask));
    for (const answer of answers) expect(answer).toEqual(single);
    // Ten separate executions would read the database ten times over; a straggler that arrives
    // after the shared execution ended may run once more.
    expect(queryCommands()).toBeLessThanOrEqual(2 * singleCommands);
  });

  it("are never shared between tokens: a caller without pii:read never receives another caller's unmasked answer", async () => {
    const demo = hub().demo!;
    const person = showcasePerson("duplicates");
    const query = await contractOperation("PersonCards");
    const [full, masked] = await Promise.all([token(), token({ scopes: ["cards:read"] })]);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        graphql<PersonCardsData>(
          hub().gateway.url,
          query,
          { idNumber: person.idNumber },
          i % 2 === 0 ? full : masked,
        ),
      ),
    );
    answers.forEach((answer, i) => {
      const expected = i % 2 === 0 ? person.idNumber : maskIdNumber(person.idNumber);
      expect(answer.data!.personByIdNumber!.idNumber).toBe(expected);
      for (const card of answer.data!.personByIdNumber!.cards) {
        const account = demo.bankAccounts.find((a) => a.cardId === card.id)!;
        expect(card.bankAccount!.accountNumber).toBe(
          i % 2 === 0 ? account.accountNumber : maskAccountNumber(account.accountNumber),
        );
      }
    });
  });
});
