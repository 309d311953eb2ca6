import { expect } from "vitest";
import { composeIdNumber, type Channel } from "@hub/kit";
import { contractOperation, graphql, token, type GraphQLResponse } from "./hub.js";

let serial = 100;

/** A fresh valid identity number for each registration. */
export function freshIdNumber(): string {
  serial += 1;
  return composeIdNumber("440106", "19850615", serial);
}

export async function run<T = Record<string, unknown>>(
  url: string,
  operation: string,
  input: Record<string, unknown>,
  channel: Channel = "COUNTER",
  sub = "op-test",
): Promise<GraphQLResponse<T>> {
  return graphql<T>(
    url,
    await contractOperation(operation),
    { input },
    await token({ channel, sub }),
  );
}

export function codeOf(response: GraphQLResponse<unknown>): unknown {
  return response.errors?.[0]?.extensions?.["code"];
}

/** Runs a contract operation that must succeed: a failure names the operation and its code. */
export async function runOk(
  url: string,
  operation: string,
  input: Record<string, unknown>,
  channel?: Channel,
): Promise<void> {
  const answer = await run(url, operation, input, channel);
  expect(answer.errors, `${operation}: ${String(codeOf(answer))}`).toBeUndefined();
}

/** Registers a person and issues a card at once (contract v2: the registration is known everywhere when it answers). */
export async function personWithCard(
  url: string,
  options: { province?: string; bank?: string } = {},
): Promise<{ personId: string; cardId: string; idNumber: string }> {
  const idNumber = freshIdNumber();
  const registered = await run<{ registerPerson: { person: { id: string } } }>(
    url,
    "RegisterPerson",
    { idNumber, name: "测试人" },
  );
  expect(registered.errors).toBeUndefined();
  const personId = registered.data!.registerPerson.person.id;
  const issued = await run<{ issueCard: { card: { id: string } } }>(url, "IssueCard", {
    personId,
    province: options.province ?? "44",
    issuingBank: options.bank ?? "中国工商银行",
  });
  expect(issued.errors).toBeUndefined();
  return { personId, cardId: issued.data!.issueCard.card.id, idNumber };
}

/** The electronic-card password the tests set (six digits, not the initial card password). */
export const ELECTRONIC_PASSWORD = "394857";

/** A person with a card whose electronic-card password is set (by the APP channel). */
export async function personWithElectronicPassword(
  url: string,
): Promise<{ personId: string; cardId: string; idNumber: string }> {
  const person = await personWithCard(url);
  await runOk(
    url,
    "SetElectronicCardPassword",
    { personId: person.personId, newPassword: ELECTRONIC_PASSWORD },
    "APP",
  );
  return person;
}

export async function cardView(
  url: string,
  cardId: string,
): Promise<{
  id: string;
  status: string;
  history: {
    type: string;
    channel: string;
    actor: string;
    fromStatus: string | null;
    toStatus: string;
    agentIdNumber: string | null;
  }[];
}> {
  const response = await graphql<{ card: { id: string; status: string; history: never[] } }>(
    url,
    await contractOperation("CardHistory"),
    { cardId },
    await token(),
  );
  expect(response.errors).toBeUndefined();
  return response.data!.card;
}

export async function bankStatus(url: string, cardId: string): Promise<string | null> {
  const response = await graphql<{ card: { bankAccount: { status: string } | null } }>(
    url,
    "query($id: ID!) { card(id: $id) { bankAccount { status } } }",
    { id: cardId },
    await token(),
  );
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return response.data?.card.bankAccount?.status ?? null;
}

/**
 * A card's ordinary life through every single-card mutation of the contract, each by a channel
 * allowed to run it; each must answer without an error (its idempotency keys name the card).
 */
export async function runCardLife(
  url: string,
  { cardId, personId }: { cardId: string; personId: string },
): Promise<void> {
  const steps: [string, Record<string, unknown>, Channel?][] = [
    ["CollectCard", { cardId }],
    ["EnableSocialSecurityFunction", { cardId }],
    ["ChangeCardPassword", { cardId, currentPassword: "123456", newPassword: "802615" }],
    ["VerifyCardPassword", { cardId, password: "802615" }],
    ["VerifyCardPassword", { cardId, password: "111111" }],
    ["ResetCardPassword", { cardId, idempotencyKey: `life-reset-${cardId}` }],
    ["SetElectronicCardPassword", { personId, newPassword: "394857" }, "APP"],
    ["VerifyElectronicCardPassword", { personId, password: "394857" }, "APP"],
    ["IssueElectronicCard", { cardId, faceMatched: true }, "APP"],
    ["ReportCardLoss", { cardId, temporary: true }],
    ["WithdrawLossReport", { cardId }],
    ["ActivateFinancialFunction", { cardId, idempotencyKey: `life-act-${cardId}` }, "BANK_COUNTER"],
  ];
  for (const [operation, input, channel] of steps) {
    const answer = await run(url, operation, input, channel);
    expect(answer.errors, `${operation}: ${String(codeOf(answer))}`).toBeUndefined();
  }
}
