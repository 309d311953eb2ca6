import { readFile } from "node:fs/promises";
import { SCOPES, subgraphDatabaseName, type Scope } from "@hub/kit";
import { SUPERGRAPH_PATH } from "@hub/schema";
import { buildASTSchema, isObjectType, parse } from "graphql";
import { beforeAll, describe, expect, it } from "vitest";
import { codeOf, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { contractOperation, graphql, token, useTestHub } from "./support/hub.js";

/**
 * R-ID-3 / CONTRACT.md "Scopes": identity numbers, bank account numbers and phone numbers are
 * shown masked unless the caller holds `pii:read`. The expected masks are written out here
 * literally (DOMAIN.md's `1101**********123X`, the schema's `138****5678` and
 * `6222***********0123`), never computed with the hub's own mask functions: a broken mask must
 * fail this test, not be copied into its expectation.
 */

const HOLDER = {
  idNumber: "110105199001011232",
  maskedIdNumber: "1101**********1232",
  name: "王芳",
  phone: "13812345678",
  maskedPhone: "138****5678",
};
/** Agents (R-ID-2): one acts at the bank (activation), one at the counter (cancellation). */
const BANK_AGENT = {
  idNumber: "310104197511204570",
  masked: "3101**********4570",
  name: "李代理",
  powerOfAttorneyRef: "POA-BANK-7731",
};
const COUNTER_AGENT = {
  idNumber: "11010519491231002X",
  masked: "1101**********002X",
  name: "张代理",
  powerOfAttorneyRef: "POA-COUNTER-5520",
};

/** Every field the schema says is masked, as `Type.field`: each must be checked below. */
const MASKED_FIELDS = [
  "BankAccount.accountNumber",
  "CardHistoryEntry.agentIdNumber",
  "Person.idNumber",
  "Person.phone",
];

const hub = useTestHub({ seed: false });
let personId: string;
let cardId: string;
/** The account number as stored by the bank (ground truth; generated when the card is issued). */
let accountNumber: string;

const withoutPii = (): Promise<string> =>
  token({ scopes: SCOPES.filter((scope: Scope) => scope !== "pii:read") });
const withPii = (): Promise<string> => token({ scopes: ["cards:read", "pii:read"] });

beforeAll(async () => {
  // Registered by a writer without pii:read: its own answer is masked too.
  const registered = await graphql<{
    registerPerson: { person: { id: string; idNumber: string; name: string } };
  }>(
    hub().gateway.url,
    await contractOperation("RegisterPerson"),
    { input: { idNumber: HOLDER.idNumber, name: HOLDER.name, phone: HOLDER.phone } },
    await withoutPii(),
  );
  expect(registered.errors).toBeUndefined();
  expectNoFullNumbers(registered);
  expect(registered.data!.registerPerson.person).toMatchObject({
    idNumber: HOLDER.maskedIdNumber,
    name: HOLDER.name,
  });
  personId = registered.data!.registerPerson.person.id;
  const issued = await run<{ issueCard: { card: { id: string } } }>(
    hub().gateway.url,
    "IssueCard",
    {
      personId,
      province: "11",
      issuingBank: "中国工商银行",
    },
  );
  expect(issued.errors).toBeUndefined();
  cardId = issued.data!.issueCard.card.id;
  accountNumber = await storedAccountNumber(cardId);
  // 中国工商银行's BIN and 13 digits: 19 characters, so 11 of them are masked.
  expect(accountNumber).toMatch(/^622202\d{13}$/);

  // Both agents end up on the card's history (R-ID-2).
  const activated = await run(
    hub().gateway.url,
    "ActivateFinancialFunction",
    { cardId, idempotencyKey: "pii-activate", agent: agentInput(BANK_AGENT) },
    "BANK_COUNTER",
  );
  expect(activated.errors, String(codeOf(activated))).toBeUndefined();
  const cancelled = await run(hub().gateway.url, "CancelCard", {
    cardId,
    reason: "pii test",
    idempotencyKey: "pii-cancel",
    agent: agentInput(COUNTER_AGENT),
  });
  expect(cancelled.errors, String(codeOf(cancelled))).toBeUndefined();
});

function agentInput(agent: typeof BANK_AGENT): Record<string, string> {
  return {
    idNumber: agent.idNumber,
    name: agent.name,
    powerOfAttorneyRef: agent.powerOfAttorneyRef,
  };
}

/**
 * The account number as the bank stored it: the ground truth a masked answer is compared with
 * (the bank generates it when the card is issued). Polled: this file is about masking, not about
 * when the bank learns of a card.
 */
async function storedAccountNumber(card: string): Promise<string> {
  return eventually(async () => {
    const stored = await hub()
      .client.db(subgraphDatabaseName(hub().dbPrefix, "bank-accounts"))
      .collection<{ cardId: string; accountNumber: string }>("bank_accounts")
      .findOne({ cardId: card });
    expect(stored).not.toBeNull();
    return stored!.accountNumber;
  });
}

/**
 * An answer to a caller without pii:read carries no full number anywhere (not only in the fields
 * checked one by one): the holder's identity number and phone, the account number, the agents'.
 */
function expectNoFullNumbers(answer: unknown, others: readonly string[] = []): void {
  const text = JSON.stringify(answer);
  const numbers = [HOLDER.idNumber, HOLDER.phone, BANK_AGENT.idNumber, COUNTER_AGENT.idNumber];
  // Unknown while the card is being issued in the set-up.
  if (accountNumber) numbers.push(accountNumber);
  for (const number of [...numbers, ...others]) expect(text).not.toContain(number);
}

/** The account number as a caller without pii:read must see it: `6222***********0123`. */
function maskedAccountNumber(): string {
  return `6222***********${accountNumber.slice(-4)}`;
}

async function ask<T>(query: string, variables: Record<string, unknown>, bearer: string) {
  const answer = await graphql<T>(hub().gateway.url, query, variables, bearer);
  expect(answer.errors).toBeUndefined();
  return answer;
}

const PERSON_FIELDS = "id idNumber name phone";
const CARD_QUERY = `query($id: ID!) {
  card(id: $id) {
    id
    holder { ${PERSON_FIELDS} }
    bankAccount { id accountNumber }
    history { type agentIdNumber }
  }
}`;

interface PersonView {
  id: string;
  idNumber: string;
  name: string;
  phone: string | null;
}
interface CardView {
  card: {
    holder: PersonView;
    bankAccount: { accountNumber: string };
    history: { type: string; agentIdNumber: string | null }[];
  };
}

describe("R-ID-3: personal data masked unless pii:read", () => {
  it("the schema's masked fields are exactly the ones this file checks", async () => {
    const schema = buildASTSchema(parse(await readFile(SUPERGRAPH_PATH, "utf8")), {
      assumeValidSDL: true,
    });
    const masked: string[] = [];
    for (const type of Object.values(schema.getTypeMap()))
      if (isObjectType(type) && !type.name.startsWith("__"))
        for (const field of Object.values(type.getFields()))
          if (/masked/i.test(field.description ?? "")) masked.push(`${type.name}.${field.name}`);
    expect(masked.sort()).toEqual(MASKED_FIELDS);
  });

  it("a person's identity number and phone, by id, by ids, by identity number and as a card's holder", async () => {
    const personQueries: [string, Record<string, unknown>, (data: unknown) => PersonView][] = [
      [
        `query($id: ID!) { person(id: $id) { ${PERSON_FIELDS} } }`,
        { id: personId },
        (data) => (data as { person: PersonView }).person,
      ],
      [
        `query($ids: [ID!]!) { persons(ids: $ids) { ${PERSON_FIELDS} } }`,
        { ids: [personId] },
        (data) => (data as { persons: PersonView[] }).persons[0]!,
      ],
      [
        `query($n: String!) { personByIdNumber(idNumber: $n) { ${PERSON_FIELDS} } }`,
        { n: HOLDER.idNumber },
        (data) => (data as { personByIdNumber: PersonView }).personByIdNumber,
      ],
      // Through the cards subgraph: the holder is resolved as an entity by the persons subgraph.
      [CARD_QUERY, { id: cardId }, (data) => (data as CardView).card.holder],
    ];
    for (const [query, variables, pick] of personQueries) {
      const masked = await ask<unknown>(query, variables, await withoutPii());
      expectNoFullNumbers(masked);
      expect(pick(masked.data!)).toEqual({
        id: personId,
        idNumber: HOLDER.maskedIdNumber,
        // Names are not masked: the contract masks identity numbers, bank account numbers and
        // phones only ("Scopes": pii:read), and an operator greets the holder by name.
        name: HOLDER.name,
        phone: HOLDER.maskedPhone,
      });
      const full = await ask<unknown>(query, variables, await withPii());
      expect(pick(full.data!)).toEqual({
        id: personId,
        idNumber: HOLDER.idNumber,
        name: HOLDER.name,
        phone: HOLDER.phone,
      });
    }
  });

  it("the bank account number and the agents' identity numbers on the card's history", async () => {
    const masked = await ask<CardView>(CARD_QUERY, { id: cardId }, await withoutPii());
    expectNoFullNumbers(masked);
    expect(masked.data!.card.bankAccount.accountNumber).toBe(maskedAccountNumber());
    expect(masked.data!.card.history.map((event) => event.agentIdNumber)).toEqual([
      null, // issued
      BANK_AGENT.masked, // the social function enabled by the activation (R-BANK-2)
      COUNTER_AGENT.masked, // cancelled
    ]);
    const full = await ask<CardView>(CARD_QUERY, { id: cardId }, await withPii());
    expect(full.data!.card.bankAccount.accountNumber).toBe(accountNumber);
    expect(full.data!.card.history.map((event) => event.agentIdNumber)).toEqual([
      null,
      BANK_AGENT.idNumber,
      COUNTER_AGENT.idNumber,
    ]);
  });

  it("the contract's documents: PersonCards and CardHistory", async () => {
    type PersonCards = {
      personByIdNumber: {
        idNumber: string;
        cards: { bankAccount: { accountNumber: string } }[];
      };
    };
    const personCards = await contractOperation("PersonCards");
    const masked = await ask<PersonCards>(
      personCards,
      { idNumber: HOLDER.idNumber },
      await withoutPii(),
    );
    expectNoFullNumbers(masked);
    expect(masked.data!.personByIdNumber.idNumber).toBe(HOLDER.maskedIdNumber);
    expect(masked.data!.personByIdNumber.cards[0]!.bankAccount.accountNumber).toBe(
      maskedAccountNumber(),
    );
    const full = await ask<PersonCards>(
      personCards,
      { idNumber: HOLDER.idNumber },
      await withPii(),
    );
    expect(full.data!.personByIdNumber.idNumber).toBe(HOLDER.idNumber);
    expect(full.data!.personByIdNumber.cards[0]!.bankAccount.accountNumber).toBe(accountNumber);

    type History = { card: { history: { agentIdNumber: string | null }[] } };
    const history = await contractOperation("CardHistory");
    const maskedHistory = await ask<History>(history, { cardId }, await withoutPii());
    expectNoFullNumbers(maskedHistory);
    expect(maskedHistory.data!.card.history.map((e) => e.agentIdNumber)).toEqual([
      null,
      BANK_AGENT.masked,
      COUNTER_AGENT.masked,
    ]);
    const fullHistory = await ask<History>(history, { cardId }, await withPii());
    expect(fullHistory.data!.card.history.map((e) => e.agentIdNumber)).toEqual([
      null,
      BANK_AGENT.idNumber,
      COUNTER_AGENT.idNumber,
    ]);
  });

  it("mutation answers are masked like queries (a writer without pii:read)", async () => {
    const set = await graphql<{
      setElectronicCardPassword: { person: { idNumber: string; phone: string } };
    }>(
      hub().gateway.url,
      `
        mutation ($input: SetElectronicCardPasswordInput!) {
          setElectronicCardPassword(input: $input) {
            person {
              id
              idNumber
              phone
            }
          }
        }
      `,
      { input: { personId, newPassword: "394857" } },
      await token({
        channel: "APP",
        scopes: SCOPES.filter((scope: Scope) => scope !== "pii:read"),
      }),
    );
    expect(set.errors).toBeUndefined();
    expectNoFullNumbers(set);
    expect(set.data!.setElectronicCardPassword.person).toMatchObject({
      idNumber: HOLDER.maskedIdNumber,
      phone: HOLDER.maskedPhone,
    });
    // A second card of another holder, activated by a bank teller without pii:read.
    const other = await run<{ registerPerson: { person: { id: string } } }>(
      hub().gateway.url,
      "RegisterPerson",
      {
        idNumber: "440106196203080884",
        name: "陈明",
      },
    );
    const issued = await run<{ issueCard: { card: { id: string } } }>(
      hub().gateway.url,
      "IssueCard",
      {
        personId: other.data!.registerPerson.person.id,
        province: "44",
        issuingBank: "中国工商银行",
      },
    );
    const otherCard = issued.data!.issueCard.card.id;
    const otherAccount = await storedAccountNumber(otherCard);
    const activated = await graphql<{
      activateFinancialFunction: { bankAccount: { accountNumber: string } };
    }>(
      hub().gateway.url,
      `
        mutation ($input: ActivateFinancialFunctionInput!) {
          activateFinancialFunction(input: $input) {
            bankAccount {
              id
              accountNumber
            }
          }
        }
      `,
      { input: { cardId: otherCard, idempotencyKey: "pii-activate-2" } },
      await token({
        channel: "BANK_COUNTER",
        scopes: SCOPES.filter((scope: Scope) => scope !== "pii:read"),
      }),
    );
    expect(activated.errors).toBeUndefined();
    expectNoFullNumbers(activated, [otherAccount]);
    expect(otherAccount).toMatch(/^622202\d{13}$/);
    expect(activated.data!.activateFinancialFunction.bankAccount.accountNumber).toBe(
      `6222***********${otherAccount.slice(-4)}`,
    );
  });

  it("no answer carries an agent's name or power of attorney: recorded (R-ID-2), never shown", async () => {
    const answers = JSON.stringify([
      await ask(CARD_QUERY, { id: cardId }, await withoutPii()),
      await ask(CARD_QUERY, { id: cardId }, await token()),
      await ask(await contractOperation("CardHistory"), { cardId }, await token()),
    ]);
    for (const agent of [BANK_AGENT, COUNTER_AGENT]) {
      expect(answers).not.toContain(agent.name);
      expect(answers).not.toContain(agent.powerOfAttorneyRef);
    }
  });
});
