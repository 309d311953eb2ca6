import type { Channel } from "@hub/kit";
import type { BankAccountDocument } from "@hub/bank-accounts/seed";
import type { CardDocument, CardEventDocument } from "@hub/cards/seed";
import type { CardPasswordDocument, ElectronicPasswordDocument } from "@hub/passwords/seed";
import type { PersonDocument } from "@hub/persons/seed";

/** The demo data set: each subgraph's documents, and the persons that show each case. */
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

/** What one demo card is to be: the builder turns it into the card, its account and its history. */
export interface CardPlan {
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
