import type { CarriedEvents, KeyRecord, OutboxDocument } from "@hub/kit";

/**
 * A person as stored in the persons database (`persons`, sharded by `_id`: docs/scale.md). It is
 * written once, by the registration, carrying its PersonRegistered event until the outbox has it.
 */
export interface PersonDocument extends CarriedEvents {
  _id: string;
  idNumber: string;
  name: string;
  phone: string | null;
  createdAt: Date;
  /** 1 once written by a registration (seeded persons have none): guards the events' release. */
  version?: number;
  /** The registering request's idempotency record (absent when it came without a key). */
  createdWith?: KeyRecord;
}

/**
 * `persons_by_id_number`: one per identity number, `_id` = the number (the collection's shard
 * key, so inserting it *is* the uniqueness check across shards), and the way from the number to
 * the person's random id. A registration writes it first; until the person is written it also
 * holds what completes the registration (`pending`), so a retry, any later registration of the
 * number, or else the relay's sweep finishes a registration whose writer stopped in between.
 */
export interface IdNumberDocument {
  _id: string;
  personId: string;
  /** Null (or absent) once the person document is written. */
  pending?: PendingRegistration | null;
}

/** Everything the person document of a claimed identity number is written from. */
export interface PendingRegistration {
  name: string;
  phone: string | null;
  createdAt: Date;
  createdWith: KeyRecord | null;
  /** The PersonRegistered event, prepared once: whoever writes the person carries these ids. */
  outgoing: OutboxDocument[];
}
