import type { Channel } from "@hub/kit";
import type { BankAccountDocument } from "@hub/bank-accounts/seed";
import type { CardDocument, CardEventDocument } from "@hub/cards/seed";
import type { CardPasswordDocument, ElectronicPasswordDocument } from "@hub/passwords/seed";
import { composeIdNumber } from "@hub/persons";
import type { PersonDocument } from "@hub/persons/seed";
import { seededRandom, type Random } from "./random.js";

/** Region codes (GB/T 2260 county level) by province, for realistic identity numbers. */
const REGIONS: Record<string, string[]> = {
  "11": ["110101", "110105", "110108"],
  "31": ["310101", "310104", "310115"],
  "44": ["440103", "440106", "440305"],
  "51": ["510104", "510107"],
  "32": ["320102", "320106"],
  "33": ["330102", "330106"],
  "42": ["420102", "420106"],
};
const PROVINCES = Object.keys(REGIONS);

const BANKS = [
  { name: "中国工商银行", bin: "622202" },
  { name: "中国建设银行", bin: "621700" },
  { name: "中国农业银行", bin: "622848" },
  { name: "中国银行", bin: "621661" },
  { name: "交通银行", bin: "622260" },
  { name: "招商银行", bin: "621483" },
];
const SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高".split("");
const GIVEN = [
  "伟",
  "芳",
  "娜",
  "敏",
  "静",
  "丽",
  "强",
  "磊",
  "军",
  "洋",
  "勇",
  "艳",
  "杰",
  "娟",
  "涛",
  "明",
  "超",
  "秀英",
  "华",
  "慧",
  "建国",
  "婷",
  "志强",
  "晓燕",
];
const ECARD_CHANNELS: Channel[] = ["APP", "WECHAT", "ALIPAY"];

const DAY = 24 * 60 * 60 * 1000;

/** The demo card password of every demo card whose password state is SET (documented in docs/demo-data.md). */
export const DEMO_CARD_PASSWORD = "802615";
/** The demo electronic-card password of demo persons who have one. */
export const DEMO_ELECTRONIC_PASSWORD = "394857";

export interface DemoData {
  persons: PersonDocument[];
  cards: CardDocument[];
  events: CardEventDocument[];
  cardPasswords: CardPasswordDocument[];
  electronicPasswords: ElectronicPasswordDocument[];
  bankAccounts: BankAccountDocument[];
  /** Ids of persons that show each case, for the docs, the sandbox and tests. */
  showcase: {
    duplicates: string;
    replaced: string;
    lockedCardPassword: string;
    lockedElectronicPassword: string;
    activationOverdue: string;
    renewalDue: string;
    expired: string;
  };
}

type Scenario =
  | "normal"
  | "archived"
  | "overdue"
  | "temporaryLoss"
  | "lost"
  | "renewalDue"
  | "expired"
  | "replaced"
  | "cancelled"
  | "lockedPassword";
const SCENARIOS: Scenario[] = [
  "normal",
  "archived",
  "overdue",
  "temporaryLoss",
  "lost",
  "renewalDue",
  "expired",
  "replaced",
  "cancelled",
  "lockedPassword",
];

interface CardPlan {
  province: string;
  status: CardDocument["status"];
  issuedAt: Date;
  collectedAt: Date | null;
  enabled: boolean;
  bankStatus: BankAccountDocument["status"];
  ecardChannel: Channel | null;
  /** Cancelled by a replacement (its history ends with REPLACED, not CANCELLED). */
  replaced?: boolean;
}

/**
 * A realistic, deterministic data set: 60 persons over 7 provinces and every card status, a
 * person with duplicate cards in one province, a replaced card pair, a locked card password, a
 * locked electronic-card password, electronic cards, and bank accounts in every state. Times are
 * relative to `now`, so derived states (renewal due, overdue, expired) hold whenever it is seeded.
 */
export function buildDemoData(now: Date, personCount = 60): DemoData {
  const random = seededRandom(20261125);
  const at = (daysAgo: number): Date => new Date(now.getTime() - daysAgo * DAY);
  const data: DemoData = {
    persons: [],
    cards: [],
    events: [],
    cardPasswords: [],
    electronicPasswords: [],
    bankAccounts: [],
    showcase: {
      duplicates: "",
      replaced: "",
      lockedCardPassword: "",
      lockedElectronicPassword: "",
      activationOverdue: "",
      renewalDue: "",
      expired: "",
    },
  };
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

  for (let i = 0; i < personCount; i++) {
    const province = PROVINCES[i % PROVINCES.length] as string;
    const region = random.pick(REGIONS[province] as string[]);
    const birth = new Date(Date.UTC(random.int(1950, 2004), random.int(0, 11), random.int(1, 28)));
    const birthDate = birth.toISOString().slice(0, 10).replace(/-/g, "");
    const person: PersonDocument = {
      _id: `p_${random.hex(16)}`,
      idNumber: composeIdNumber(region, birthDate, random.int(1, 999)),
      name: random.pick(SURNAMES) + random.pick(GIVEN),
      phone: `1${random.pick(["38", "39", "50", "58", "86", "88"])}${random.digits(8)}`,
      createdAt: at(4000),
    };
    data.persons.push(person);
    const scenario = SCENARIOS[i % SCENARIOS.length] as Scenario;
    const years = random.int(1, 8);
    const issuedAt = at(years * 365 + random.int(0, 200));
    const collectedAt = new Date(issuedAt.getTime() + random.int(5, 40) * DAY);
    const ecard = i % 3 === 0 ? random.pick(ECARD_CHANNELS) : null;
    const base: CardPlan = {
      province,
      status: "NORMAL",
      issuedAt,
      collectedAt,
      enabled: true,
      bankStatus: "ACTIVE",
      ecardChannel: ecard,
    };

    if (i === 0) {
      // The duplicates showcase: two cards in Guangdong (one lost, its bank account still open),
      // and one in Beijing after moving there.
      data.showcase.duplicates = person._id;
      addCard(person._id, {
        ...base,
        province: "44",
        issuedAt: at(3000),
        collectedAt: at(2980),
        ecardChannel: null,
      });
      addCard(person._id, {
        ...base,
        province: "44",
        status: "LOST",
        issuedAt: at(2000),
        collectedAt: at(1990),
        ecardChannel: null,
      });
      addCard(person._id, {
        ...base,
        province: "11",
        issuedAt: at(700),
        collectedAt: at(690),
        ecardChannel: "APP",
      });
      continue;
    }
    switch (scenario) {
      case "normal":
        addCard(person._id, base);
        break;
      case "archived":
        addCard(person._id, {
          ...base,
          status: "ARCHIVED",
          issuedAt: at(20),
          collectedAt: null,
          enabled: false,
          bankStatus: "NOT_ACTIVATED",
          ecardChannel: null,
        });
        break;
      case "overdue":
        data.showcase.activationOverdue ||= person._id;
        addCard(person._id, {
          ...base,
          status: "ARCHIVED",
          issuedAt: at(260),
          collectedAt: at(240),
          enabled: false,
          bankStatus: "NOT_ACTIVATED",
          ecardChannel: null,
        });
        break;
      case "temporaryLoss":
        addCard(person._id, { ...base, status: "TEMPORARY_LOSS" });
        break;
      case "lost":
        addCard(person._id, { ...base, status: "LOST", bankStatus: "LOSS_REPORTED" });
        break;
      case "renewalDue":
        data.showcase.renewalDue ||= person._id;
        addCard(person._id, { ...base, issuedAt: at(3652 - 30), collectedAt: at(3640) });
        break;
      case "expired":
        data.showcase.expired ||= person._id;
        addCard(person._id, {
          ...base,
          issuedAt: at(3653 + 20),
          collectedAt: at(3660),
          ecardChannel: null,
        });
        break;
      case "replaced": {
        data.showcase.replaced ||= person._id;
        const old = addCard(person._id, {
          ...base,
          status: "CANCELLED",
          issuedAt: at(2500),
          collectedAt: at(2490),
          bankStatus: "CANCELLATION_REQUIRED",
          ecardChannel: null,
          replaced: true,
        });
        const replacement = addCard(
          person._id,
          { ...base, issuedAt: at(40), collectedAt: at(40) },
          { replacesId: old._id },
        );
        old.replacedById = replacement._id;
        data.events.push({
          _id: `e_${random.hex(16)}`,
          cardId: old._id,
          at: replacement.issuedAt,
          seq: 99,
          type: "REPLACED",
          channel: "COUNTER",
          fromStatus: "NORMAL",
          toStatus: "CANCELLED",
          actor: "demo-seed",
          agent: null,
        });
        break;
      }
      case "cancelled":
        addCard(person._id, {
          ...base,
          status: "CANCELLED",
          bankStatus: "CANCELLED",
          ecardChannel: null,
        });
        break;
      case "lockedPassword": {
        data.showcase.lockedCardPassword ||= person._id;
        const card = addCard(person._id, base);
        data.cardPasswords.push({
          _id: card._id,
          hash: null,
          state: "LOCKED",
          failedAttempts: 6,
          lockedAt: at(2),
          updatedAt: at(2),
        });
        break;
      }
    }
  }
  return data;
}

/**
 * Password records need real scrypt hashes, which are slow by design; one hash of each demo
 * password is shared by the demo records that use it.
 */
export function addDemoPasswords(
  data: DemoData,
  now: Date,
  cardHash: string,
  electronicHash: string,
): void {
  const hours = (h: number) => new Date(now.getTime() - h * 60 * 60 * 1000);
  const locked = new Set(data.cardPasswords.map((p) => p._id));
  data.cards.forEach((card, index) => {
    if (card.status === "NORMAL" && !locked.has(card._id) && index % 2 === 0) {
      data.cardPasswords.push({
        _id: card._id,
        hash: cardHash,
        state: "SET",
        failedAttempts: index % 4 === 0 ? 2 : 0,
        lockedAt: null,
        updatedAt: hours(500),
      });
    }
  });
  const withEcard = [...new Set(data.cards.filter((c) => c.electronicCard).map((c) => c.personId))];
  withEcard.forEach((personId, index) => {
    const isLocked = index === 1;
    if (isLocked) data.showcase.lockedElectronicPassword = personId;
    data.electronicPasswords.push({
      _id: personId,
      hash: electronicHash,
      failedAttempts: isLocked ? 7 : 0,
      lockedAt: isLocked ? hours(3) : null,
      updatedAt: hours(3),
    });
  });
}

/** Example variables for the sandbox's tabs (the contract's queries), from the showcase persons. */
export function sandboxExamples(data: DemoData): Record<string, Record<string, unknown>> {
  const duplicates = data.persons.find((p) => p._id === data.showcase.duplicates);
  return {
    PersonCards: { idNumber: duplicates?.idNumber },
    PersonById: { id: data.showcase.replaced },
    PersonsByIds: { ids: data.persons.slice(0, 10).map((p) => p._id) },
    CardHistory: { cardId: data.cards.find((c) => c.personId === data.showcase.replaced)?._id },
  };
}
