import { CHANNEL_POLICY, CHANNELS, type Channel } from "@hub/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cardView, codeOf, freshIdNumber, personWithCard, run } from "./support/cards.js";
import { contractOperation, graphql, startTestHub, token, type TestHub } from "./support/hub.js";

let hub: TestHub;
let url: string;
beforeAll(async () => {
  hub = await startTestHub({ seed: false });
  url = hub.gateway.url;
});
afterAll(async () => {
  await hub?.stop();
});

/** Contract operation, the policy row that governs it, and an input for a given card. */
const CARD_OPERATIONS: [
  string,
  keyof typeof CHANNEL_POLICY,
  (cardId: string) => Record<string, unknown>,
][] = [
  ["CollectCard", "collectCard", (cardId) => ({ cardId })],
  ["EnableSocialSecurityFunction", "enableSocialSecurityFunction", (cardId) => ({ cardId })],
  ["ReportCardLoss", "reportCardLoss:temporary", (cardId) => ({ cardId, temporary: true })],
  ["ReportCardLoss", "reportCardLoss:formal", (cardId) => ({ cardId, temporary: false })],
  ["WithdrawLossReport", "withdrawLossReport", (cardId) => ({ cardId })],
  ["CancelCard", "cancelCard", (cardId) => ({ cardId, reason: "x", idempotencyKey: "policy" })],
  [
    "ReplaceCard",
    "replaceCard",
    (cardId) => ({ cardId, reason: "LOST", idempotencyKey: "policy" }),
  ],
  [
    "ReplaceCard",
    "replaceCard:instant",
    (cardId) => ({ cardId, reason: "LOST", instant: true, idempotencyKey: "policy-i" }),
  ],
  ["IssueElectronicCard", "issueElectronicCard", (cardId) => ({ cardId, faceMatched: true })],
];

describe("channel policy (CONTRACT.md) for card and person mutations", () => {
  it("every channel outside an operation's row gets CHANNEL_NOT_ALLOWED, and nothing changes", async () => {
    const { cardId } = await personWithCard(url);
    const before = await cardView(url, cardId);
    for (const [operation, row, input] of CARD_OPERATIONS) {
      const refused = CHANNELS.filter(
        (c) => !(CHANNEL_POLICY[row] as readonly Channel[]).includes(c),
      );
      for (const channel of refused) {
        const response = await run(url, operation, input(cardId), channel);
        expect(codeOf(response), `${operation} (${row}) from ${channel}`).toBe(
          "CHANNEL_NOT_ALLOWED",
        );
      }
    }
    for (const channel of CHANNELS.filter(
      (c) => !(CHANNEL_POLICY.registerPerson as readonly Channel[]).includes(c),
    )) {
      expect(
        codeOf(await run(url, "RegisterPerson", { idNumber: freshIdNumber(), name: "x" }, channel)),
      ).toBe("CHANNEL_NOT_ALLOWED");
      expect(
        codeOf(
          await run(
            url,
            "IssueCard",
            { personId: "p_x", province: "11", issuingBank: "b" },
            channel,
          ),
        ),
      ).toBe("CHANNEL_NOT_ALLOWED");
    }
    expect(await cardView(url, cardId)).toEqual(before);
  });

  it("a token without the write scope is FORBIDDEN", async () => {
    const { cardId } = await personWithCard(url);
    const readOnly = await token({ scopes: ["cards:read"] });
    const cards = await graphql(
      url,
      await contractOperation("CancelCard"),
      { input: { cardId, reason: "x", idempotencyKey: "f" } },
      readOnly,
    );
    expect(codeOf(cards)).toBe("FORBIDDEN");
    const persons = await graphql(
      url,
      await contractOperation("RegisterPerson"),
      { input: { idNumber: freshIdNumber(), name: "x" } },
      readOnly,
    );
    expect(codeOf(persons)).toBe("FORBIDDEN");
    expect((await cardView(url, cardId)).status).toBe("ARCHIVED");
  });
});

describe("registration and issuing: bad input", () => {
  it("R-ID-1: registering a malformed identity number is INVALID_ID_NUMBER; a second registration is a CONFLICT", async () => {
    expect(
      codeOf(await run(url, "RegisterPerson", { idNumber: "110105194912310021", name: "x" })),
    ).toBe("INVALID_ID_NUMBER");
    const idNumber = freshIdNumber();
    const first = await run<{ registerPerson: { person: { id: string; idNumber: string } } }>(
      url,
      "RegisterPerson",
      { idNumber: idNumber.toLowerCase(), name: "王芳", phone: "138 1234 5678" },
    );
    expect(first.data!.registerPerson.person.idNumber).toBe(idNumber);
    expect(codeOf(await run(url, "RegisterPerson", { idNumber, name: "王芳" }))).toBe("CONFLICT");
    expect(
      codeOf(
        await run(url, "RegisterPerson", { idNumber: freshIdNumber(), name: "x", phone: "12345" }),
      ),
    ).toBe("BAD_USER_INPUT");
  });

  it("a registration replayed with its idempotency key answers the same person", async () => {
    const input = { idNumber: freshIdNumber(), name: "李强", idempotencyKey: "reg-1" };
    const first = await run(url, "RegisterPerson", input, "NATIONAL_PLATFORM");
    expect(await run(url, "RegisterPerson", input, "NATIONAL_PLATFORM")).toEqual(first);
  });

  it("unknown card → NOT_FOUND; unknown person or bad province → NOT_FOUND / BAD_USER_INPUT", async () => {
    expect(codeOf(await run(url, "EnableSocialSecurityFunction", { cardId: "c_nope" }))).toBe(
      "NOT_FOUND",
    );
    expect(
      codeOf(
        await run(url, "IssueCard", {
          personId: "p_nope",
          province: "11",
          issuingBank: "中国银行",
        }),
      ),
    ).toBe("NOT_FOUND");
    const { personId } = await personWithCard(url);
    expect(
      codeOf(await run(url, "IssueCard", { personId, province: "99", issuingBank: "中国银行" })),
    ).toBe("BAD_USER_INPUT");
  });

  it("R-ID-2: an agent acts only with a valid ID and a power of attorney, and is recorded on the event", async () => {
    const { cardId } = await personWithCard(url);
    const badAgent = await run(url, "CancelCard", {
      cardId,
      reason: "x",
      idempotencyKey: "a1",
      agent: { idNumber: "123", name: "代理", powerOfAttorneyRef: "P-1" },
    });
    expect(codeOf(badAgent)).toBe("INVALID_ID_NUMBER");
    const noPower = await run(url, "CancelCard", {
      cardId,
      reason: "x",
      idempotencyKey: "a2",
      agent: { idNumber: "11010519491231002X", name: "代理", powerOfAttorneyRef: " " },
    });
    expect(codeOf(noPower)).toBe("BAD_USER_INPUT");
    const ok = await run(
      url,
      "CancelCard",
      {
        cardId,
        reason: "x",
        idempotencyKey: "a3",
        agent: { idNumber: "11010519491231002X", name: "代理", powerOfAttorneyRef: "P-1" },
      },
      "COUNTER",
      "counter-77",
    );
    expect(ok.errors).toBeUndefined();
    expect((await cardView(url, cardId)).history.at(-1)).toMatchObject({
      type: "CANCELLED",
      actor: "counter-77",
      channel: "COUNTER",
      agentIdNumber: "11010519491231002X",
    });
  });
});
