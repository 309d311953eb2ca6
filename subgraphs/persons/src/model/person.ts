import { MaskedPii, maskIdNumber, maskPhone } from "@hub/kit";
import { Directive, Field, ID, ObjectType, UseMiddleware } from "type-graphql";

@Directive('@key(fields: "id")')
@ObjectType({ description: "A cardholder: a person known to the social security system." })
export class Person {
  @Field(() => ID, { description: "Opaque, stable id of the person. Never the identity number." })
  id!: string;

  @Field(() => String, {
    description:
      "Citizen identity number, which is also the social security number (R-ID-1). Masked as `1101**********123X` unless the caller has scope pii:read (R-ID-3).",
  })
  @UseMiddleware(MaskedPii(maskIdNumber))
  idNumber!: string;

  @Field(() => String, { description: "Full name as on the identity card." })
  name!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "Contact phone number, masked as `138****5678` unless the caller has scope pii:read (R-ID-3).",
  })
  @UseMiddleware(MaskedPii(maskPhone))
  phone?: string | null;
}
