import type { Channel } from "@hub/kit";
import type { CardDocument, CardEventDocument } from "@hub/cards/seed";
import { BANKS, DAY } from "./demo-catalogue.js";
import type { CardPlan, DemoData } from "./demo-data-types.js";
import type { Random } from "./random.js";

/**
 * The demo builder's card factory: each call adds a card to `data` with its bank account and its
 * history. One factory per build, so card numbers count from the build's first card.
 */
export function cardMaker(data: DemoData, random: Random, now: Date) {
  const at = (daysAgo: number): Date => new Date(now.getTime() - daysAgo * DAY);
  let cardSerial = 0;

  const addCard = (
    personId: string,
    plan: CardPlan,
    links: { replacesId?: string } = {},
  ): CardDocument => {
    cardSerial += 1;
    const bank = random.pick(BANKS);
    const id = `c_${random.hex(16)}`;
    const issued = plan.issuedAt;
    const expires = new Date(issued.getTime());
    expires.setUTCFullYear(expires.getUTCFullYear() + 10);
    const card: CardDocument = {
      _id: id,
      personId,
      number: `${"ABCDEFGHJK"[cardSerial % 10]}${String(10_000_000 + cardSerial * 7919).slice(-8)}`,
      province: plan.province,
      issuingBank: bank.name,
      status: plan.status,
      issuedAt: issued,
      expiresAt: expires,
      collectedAt: plan.collectedAt,
      socialFunction: plan.enabled
        ? {
            enabled: true,
            enabledAt: new Date((plan.collectedAt ?? issued).getTime() + 3 * DAY),
            channel: random.pick<Channel>(["COUNTER", "BANK_COUNTER", "HOSPITAL", "APP"]),
          }
        : { enabled: false, enabledAt: null, channel: null },
      electronicCard: plan.ecardChannel
        ? { channel: plan.ecardChannel, issuedAt: at(random.int(10, 300)) }
        : null,
      replacesId: links.replacesId ?? null,
      replacedById: null,
      bankAccountStatus: plan.bankStatus,
      version: 1,
      updatedAt: now,
    };
    data.cards.push(card);
    data.bankAccounts.push({
      _id: `b_${random.hex(16)}`,
      cardId: id,
      bank: bank.name,
      accountNumber: `${bank.bin}${random.digits(13)}`,
      status: plan.bankStatus,
      activatedAt:
        plan.bankStatus === "NOT_ACTIVATED" ? null : new Date(issued.getTime() + 10 * DAY),
      version: 1,
      updatedAt: now,
    });
    addHistory(card, plan, random);
    return card;
  };

  const addHistory = (card: CardDocument, plan: CardPlan, rnd: Random): void => {
    let seq = 0;
    const push = (
      time: Date,
      type: CardEventDocument["type"],
      channel: Channel,
      from: CardDocument["status"] | null,
      to: CardDocument["status"],
    ) =>
      data.events.push({
        _id: `e_${rnd.hex(16)}`,
        cardId: card._id,
        at: time,
        seq: seq++,
        type,
        channel,
        fromStatus: from,
        toStatus: to,
        actor: "demo-seed",
        agent: null,
      });
    push(
      card.issuedAt,
      card.replacesId ? "ISSUED_AS_REPLACEMENT" : "ISSUED",
      "COUNTER",
      null,
      "ARCHIVED",
    );
    if (card.collectedAt) push(card.collectedAt, "COLLECTED", "COUNTER", "ARCHIVED", "ARCHIVED");
    if (card.socialFunction.enabled && card.socialFunction.enabledAt) {
      push(
        card.socialFunction.enabledAt,
        "SOCIAL_FUNCTION_ENABLED",
        card.socialFunction.channel ?? "COUNTER",
        "ARCHIVED",
        "NORMAL",
      );
    }
    if (card.electronicCard)
      push(
        card.electronicCard.issuedAt,
        "ELECTRONIC_CARD_ISSUED",
        card.electronicCard.channel,
        "NORMAL",
        "NORMAL",
      );
    const lossAt = at(rnd.int(2, 20));
    if (card.status === "TEMPORARY_LOSS")
      push(lossAt, "LOSS_REPORTED_TEMPORARY", "PHONE_12333", "NORMAL", "TEMPORARY_LOSS");
    if (card.status === "LOST") push(lossAt, "LOSS_REPORTED_FORMAL", "COUNTER", "NORMAL", "LOST");
    if (card.status === "CANCELLED" && !plan.replaced)
      push(lossAt, "CANCELLED", "COUNTER", "NORMAL", "CANCELLED");
  };

  return addCard;
}
