import { randomUUID } from "node:crypto";
import { beside, type Caller, type RetainedCollection } from "@hub/kit";
import type { ClientSession, Collection, Db } from "mongodb";

/** An audit record of a password change, reset or lock: never the password or its hash. */
interface PasswordEventDocument {
  _id: string;
  subject: string;
  kind: "CARD" | "ELECTRONIC";
  type: "CHANGED" | "RESET" | "LOCKED" | "SET";
  channel: string;
  actor: string;
  agent: { idNumber: string; name: string; powerOfAttorneyRef: string } | null;
  at: Date;
}

/** The audit trail of password changes, resets and locks (`password_events`). */
export class PasswordAudit {
  readonly events: Collection<PasswordEventDocument>;

  constructor(private readonly db: Db) {
    this.events = db.collection<PasswordEventDocument>("password_events");
  }

  async ensureIndexes(): Promise<void> {
    await this.events.createIndex({ subject: 1, at: 1 }, { name: "subject_history" });
    // The retention sweep deletes audit events past their period by `at` (retainedFor).
    await this.events.createIndex({ at: 1 }, { name: "audit_retention" });
  }

  /**
   * The audit trail as the retention sweep keeps it: `keepMs` after each event
   * (HUB_PASSWORD_AUDIT_RETENTION_DAYS), so `password_events` stops growing for ever.
   */
  retainedFor(keepMs: number): RetainedCollection {
    return { collection: this.events, field: "at", keepMs };
  }

  async record(
    event: Omit<PasswordEventDocument, "_id" | "channel" | "actor" | "agent"> & {
      caller: Caller;
      agent?: PasswordEventDocument["agent"];
    },
    session?: ClientSession,
  ): Promise<void> {
    const { caller, agent, ...rest } = event;
    const doc: PasswordEventDocument = {
      _id: randomUUID(),
      ...rest,
      channel: caller.channel,
      actor: caller.sub,
      agent: agent ?? null,
    };
    // Every flow records inside its transaction; a record made outside one (seeding, tests)
    // waits beside them.
    await (session
      ? this.events.insertOne(doc, { session })
      : beside(this.db, () => this.events.insertOne(doc)));
  }
}
