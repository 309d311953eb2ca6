import { composeIdNumber } from "@hub/persons";
import type { PersonDocument } from "@hub/persons/seed";
import { cardMaker } from "./demo-card-maker.js";
import {
  DAY,
  ECARD_CHANNELS,
  GIVEN,
  PROVINCES,
  REGIONS,
  SCENARIOS,
  SURNAMES,
  type Scenario,
} from "./demo-catalogue.js";
import type { CardPlan, DemoData } from "./demo-data-types.js";
import { seededRandom } from "./random.js";

// The demo data's other parts, imported from here by the harness's index and seed-demo.ts.
export type { DemoData } from "./demo-data-types.js";
export {
  addDemoPasswords,
  DEMO_CARD_PASSWORD,
  DEMO_ELECTRONIC_PASSWORD,
} from "./demo-passwords.js";
export { sandboxExamples } from "./sandbox-examples.js";

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
  const addCard = cardMaker(data, random, now);

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
