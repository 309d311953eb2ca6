import { Field, InputType, ObjectType } from "type-graphql";
import { Person } from "./person.js";

@InputType({ description: "A new cardholder (counter or national platform only)." })
export class RegisterPersonInput {
  @Field(() => String, { description: "18-character citizen identity number (R-ID-1)." })
  idNumber!: string;

  @Field(() => String, { description: "Full name as on the identity card." })
  name!: string;

  @Field(() => String, { nullable: true, description: "Mainland mobile number (11 digits)." })
  phone?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Makes a retry safe: the same key from the same channel returns the first result.",
  })
  idempotencyKey?: string | null;
}

@ObjectType({ description: "Result of registerPerson." })
export class RegisterPersonPayload {
  @Field(() => Person, { description: "The registered person." })
  person!: Person;
}
