import type { CreatedDocument } from "@hub/kit";

/**
 * A person as stored in the persons database. A registration is one insert carrying the
 * PersonRegistered event and the registering request's idempotency record (no transaction).
 */
export interface PersonDocument extends Partial<CreatedDocument> {
  _id: string;
  idNumber: string;
  name: string;
  phone: string | null;
  createdAt: Date;
}
