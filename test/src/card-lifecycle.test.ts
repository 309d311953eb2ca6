import { describe, expect, it } from "vitest";
import { bankStatus, cardView, codeOf, personWithCard, run } from "./support/cards.js";
import { useTestHub, type GraphQLResponse } from "./support/hub.js";

const hub = useTestHub({
  seed: false,
  logLevel: process.env["HUB_TEST_LOG_LEVEL"] ?? "silent",
});

/**
 * Contract v2: a mutation answers once its effects reached the other subgraphs, so the caller's
 * very next request shows them; an answer naming none as pending says they all arrived.
 */
function expectNoPendingEffects(answer: GraphQLResponse<unknown>): void {
  expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
  expect(answer.extensions?.["pendingEffects"], JSON.stringify(answer.extensions)).toBeUndefined();
}

describe("card lifecycle through the gateway", () => {
  it("R-CARD-2/R-CARD-3/R-CARD-4: issue → collect → enable at a pharmacy; enabling again says so, without error", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    expect((await cardView(hub().gateway.url, cardId)).status).toBe("ARCHIVED");
    const collected = await run<{
      collectCard: {
        card: { collectedAt: string; socialSecurityFunction: { activationOverdue: boolean } };
      };
    }>(hub().gateway.url, "CollectCard", { cardId });
    expect(collected.data!.collectCard.card.collectedAt).toMatch(/^\d{4}-/);
    expect(collected.data!.collectCard.card.socialSecurityFunction.activationOverdue).toBe(false);

    const first = await run<{
      enableSocialSecurityFunction: {
        firstActivation: boolean;
        card: { status: string; socialSecurityFunction: { enabled: boolean; channel: string } };
      };
    }>(hub().gateway.url, "EnableSocialSecurityFunction", { cardId }, "PHARMACY");
    expect(first.errors).toBeUndefined();
    expect(first.data!.enableSocialSecurityFunction).toMatchObject({
      firstActivation: true,
      card: { status: "NORMAL", socialSecurityFunction: { enabled: true, channel: "PHARMACY" } },
    });
    const again = await run<{ enableSocialSecurityFunction: { firstActivation: boolean } }>(
      hub().gateway.url,
      "EnableSocialSecurityFunction",
      { cardId },
      "PHONE_12333",
    );
    expect(again.errors).toBeUndefined();
    expect(again.data!.enableSocialSecurityFunction.firstActivation).toBe(false);
    const history = (await cardView(hub().gateway.url, cardId)).history;
    expect(history.map((e) => e.type)).toEqual(["ISSUED", "COLLECTED", "SOCIAL_FUNCTION_ENABLED"]);
    expect(history[2]).toMatchObject({
      channel: "PHARMACY",
      fromStatus: "ARCHIVED",
      toStatus: "NORMAL",
      actor: "op-test",
    });
  });

  it("R-CARD-10, R-BANK-3: temporary loss → formal loss (bank account under loss report) → withdrawn (account active again)", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    // The bank account opened with the card (its CardIssued effect), known to the next request.
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("NOT_ACTIVATED");
    // Only an activated account goes under loss report with its card (account-rules.ts).
    const activated = await run<{
      activateFinancialFunction: { bankAccount: { status: string }; card: { status: string } };
    }>(
      hub().gateway.url,
      "ActivateFinancialFunction",
      { cardId, idempotencyKey: "lc-act" },
      "BANK_COUNTER",
    );
    expectNoPendingEffects(activated);
    expect(activated.data!.activateFinancialFunction).toMatchObject({
      bankAccount: { status: "ACTIVE" },
      card: { status: "NORMAL" },
    });

    const temporary = await run<{ reportCardLoss: { card: { status: string } } }>(
      hub().gateway.url,
      "ReportCardLoss",
      { cardId, temporary: true },
      "APP",
    );
    expectNoPendingEffects(temporary);
    expect(temporary.data!.reportCardLoss.card.status).toBe("TEMPORARY_LOSS");
    // A temporary report leaves the account alone: the bank acts on a formal one.
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("ACTIVE");
    const formalByApp = await run(
      hub().gateway.url,
      "ReportCardLoss",
      { cardId, temporary: false },
      "APP",
    );
    expect(codeOf(formalByApp)).toBe("CHANNEL_NOT_ALLOWED");
    expect((await cardView(hub().gateway.url, cardId)).status).toBe("TEMPORARY_LOSS");
    const formal = await run<{ reportCardLoss: { card: { status: string } } }>(
      hub().gateway.url,
      "ReportCardLoss",
      { cardId, temporary: false },
      "BANK_COUNTER",
    );
    expectNoPendingEffects(formal);
    expect(formal.data!.reportCardLoss.card.status).toBe("LOST");
    // R-BANK-3: the account is under loss report by the caller's very next request.
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("LOSS_REPORTED");
    const withdrawn = await run<{ withdrawLossReport: { card: { status: string } } }>(
      hub().gateway.url,
      "WithdrawLossReport",
      { cardId },
      "COUNTER",
    );
    expectNoPendingEffects(withdrawn);
    expect(withdrawn.data!.withdrawLossReport.card.status).toBe("NORMAL");
    // ...and active again by the next one.
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("ACTIVE");
    expect(
      (await cardView(hub().gateway.url, cardId)).history.map((e) => e.type).slice(-3),
    ).toEqual(["LOSS_REPORTED_TEMPORARY", "LOSS_REPORTED_FORMAL", "LOSS_REPORT_WITHDRAWN"]);
  });

  it("R-CARD-9, R-CARD-8: replacing a cracked card costs 20 yuan, cancels the old card and links both; instant issuance starts NORMAL", async () => {
    const { cardId, personId } = await personWithCard(hub().gateway.url, {
      province: "31",
      bank: "招商银行",
    });
    const replaced = await run<{
      replaceCard: {
        oldCard: { id: string; status: string; replacedBy: { id: string } };
        newCard: {
          id: string;
          number: string;
          status: string;
          province: string;
          replaces: { id: string };
        };
        fee: { amount: number; currency: string; reason: string };
      };
    }>(hub().gateway.url, "ReplaceCard", {
      cardId,
      reason: "CRACKED",
      instant: true,
      idempotencyKey: "replace-1",
      agent: { idNumber: "11010519491231002X", name: "代理人", powerOfAttorneyRef: "POA-2026-001" },
    });
    expectNoPendingEffects(replaced);
    const { oldCard, newCard, fee } = replaced.data!.replaceCard;
    expect(fee).toEqual({ amount: 20, currency: "CNY", reason: expect.stringMatching(/cracked/i) });
    expect(oldCard).toEqual({ id: cardId, status: "CANCELLED", replacedBy: { id: newCard.id } });
    expect(newCard).toMatchObject({ status: "NORMAL", province: "31", replaces: { id: cardId } });
    const oldHistory = await cardView(hub().gateway.url, cardId);
    expect(oldHistory.history.at(-1)).toMatchObject({
      type: "REPLACED",
      toStatus: "CANCELLED",
      agentIdNumber: "11010519491231002X",
    });
    // The replacement's effects on the bank (the old account to be cancelled, the new card's
    // account opened) are in by the caller's next requests.
    expect(await bankStatus(hub().gateway.url, cardId)).toBe("CANCELLATION_REQUIRED");
    expect(await bankStatus(hub().gateway.url, newCard.id)).toBe("NOT_ACTIVATED");
    expect(personId).toMatch(/^p_/);
  });

  it("R-CARD-8: a card with a quality defect within validity is replaced free of charge", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const replaced = await run<{
      replaceCard: { fee: { amount: number }; newCard: { status: string } };
    }>(
      hub().gateway.url,
      "ReplaceCard",
      { cardId, reason: "QUALITY_DEFECT", idempotencyKey: "qd-1" },
      "WEBSITE",
    );
    expect(replaced.errors).toBeUndefined();
    expect(replaced.data!.replaceCard.fee.amount).toBe(0);
    expect(replaced.data!.replaceCard.newCard.status).toBe("ARCHIVED");
  });

  it("R-CARD-10: a cancelled card never changes again: every command is INVALID_TRANSITION naming CANCELLED", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const cancelled = await run<{ cancelCard: { card: { status: string } } }>(
      hub().gateway.url,
      "CancelCard",
      {
        cardId,
        reason: "holder request",
        idempotencyKey: "cancel-1",
      },
    );
    expect(cancelled.data!.cancelCard.card.status).toBe("CANCELLED");
    const attempts: [string, Record<string, unknown>, string][] = [
      ["EnableSocialSecurityFunction", { cardId }, "COUNTER"],
      ["ReportCardLoss", { cardId, temporary: true }, "COUNTER"],
      ["WithdrawLossReport", { cardId }, "COUNTER"],
      ["CancelCard", { cardId, reason: "again", idempotencyKey: "cancel-2" }, "COUNTER"],
      ["ReplaceCard", { cardId, reason: "LOST", idempotencyKey: "r-c" }, "COUNTER"],
      ["CollectCard", { cardId }, "COUNTER"],
      ["IssueElectronicCard", { cardId, faceMatched: true }, "APP"],
    ];
    for (const [operation, input, channel] of attempts) {
      const response = await run(hub().gateway.url, operation, input, channel as never);
      expect(codeOf(response), operation).toBe("INVALID_TRANSITION");
      expect(response.errors?.[0]?.message).toMatch(/CANCELLED/);
    }
    expect((await cardView(hub().gateway.url, cardId)).history.map((e) => e.type)).toEqual([
      "ISSUED",
      "CANCELLED",
    ]);
  });

  it("R-ECARD-1, R-ECARD-3: a failed face match answers FACE_MISMATCH with the four remedies; a match issues the electronic card and enables the card", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const mismatch = await run(
      hub().gateway.url,
      "IssueElectronicCard",
      { cardId, faceMatched: false },
      "WECHAT",
    );
    expect(codeOf(mismatch)).toBe("FACE_MISMATCH");
    const remedies = mismatch.errors![0]!.extensions!["remedies"] as string[];
    expect(remedies).toHaveLength(4);
    expect(remedies.join(" ")).toMatch(/light/);
    expect(remedies.join(" ")).toMatch(/frame/);
    expect(remedies.join(" ")).toMatch(/real-name/);
    expect(remedies.join(" ")).toMatch(/photo/);
    const issued = await run<{
      issueElectronicCard: { card: { electronicCard: { channel: string; availability: string } } };
    }>(hub().gateway.url, "IssueElectronicCard", { cardId, faceMatched: true }, "WECHAT");
    expect(issued.data!.issueElectronicCard.card.electronicCard).toMatchObject({
      channel: "WECHAT",
      availability: "USABLE",
    });
    expect((await cardView(hub().gateway.url, cardId)).status).toBe("NORMAL");
    const lost = await run<{
      reportCardLoss: { card: { electronicCard: { availability: string } } };
    }>(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true }, "WECHAT");
    expect(lost.data!.reportCardLoss.card.electronicCard.availability).toBe(
      "AUTHORIZATION_REQUIRED",
    );
    const cancelled = await run<{
      cancelCard: {
        card: { electronicCard: { availability: string }; bankAccount: { status: string } };
      };
    }>(hub().gateway.url, "CancelCard", { cardId, reason: "r", idempotencyKey: "c-e" });
    expect(cancelled.data!.cancelCard.card.electronicCard.availability).toBe("UNAVAILABLE");
  });
});
