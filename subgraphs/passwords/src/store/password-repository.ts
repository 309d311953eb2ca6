import type { Db } from "mongodb";
import { CardPasswordStore } from "./card-password-store.js";
import { ElectronicPasswordStore } from "./electronic-password-store.js";
import { KnownSubjects } from "./known-subjects.js";
import { PasswordAudit } from "./password-audit.js";

/**
 * The passwords subgraph's persistence, one store per collection: card passwords, electronic-card
 * passwords, the audit trail, and the cards and persons known from events. Failure counting is one
 * atomic update guarded by the current count, so concurrent wrong entries lock at exactly the
 * limit; the entry that reaches the limit also sets the lock in that same update (failure-count.ts).
 */
export class PasswordRepository {
  readonly cardPasswords: CardPasswordStore;
  readonly electronicPasswords: ElectronicPasswordStore;
  readonly audit: PasswordAudit;
  readonly known: KnownSubjects;

  constructor(readonly db: Db) {
    this.cardPasswords = new CardPasswordStore(db);
    this.electronicPasswords = new ElectronicPasswordStore(db);
    this.audit = new PasswordAudit(db);
    this.known = new KnownSubjects(db);
  }

  /** Every collection with its indexes, created at start-up (none implicitly in a transaction). */
  async ensureIndexes(): Promise<void> {
    await this.cardPasswords.ensureIndexes();
    await this.electronicPasswords.ensureIndexes();
    await this.audit.ensureIndexes();
    await this.known.ensureCollections();
  }

  async ping(): Promise<boolean> {
    await this.cardPasswords.collection.countDocuments({}, { limit: 1 });
    return true;
  }
}
