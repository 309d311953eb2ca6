/** A person as stored in the persons database. */
export interface PersonDocument {
  _id: string;
  idNumber: string;
  name: string;
  phone: string | null;
  createdAt: Date;
}
