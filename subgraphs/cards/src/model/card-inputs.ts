import { AgentInput, checkFreeText, MAX_REFERENCE_LENGTH } from "@hub/kit";
import { GraphQLDateTime } from "graphql-scalars";
import { Field, ID, InputType } from "type-graphql";
import { ReplacementReason } from "./replacement-reason.js";

const KEY =
  "Makes a retry safe: the same key from the same channel returns the first result and changes nothing; reused with other input it is a CONFLICT.";

@InputType({ description: "Issue a new card to a registered person." })
export class IssueCardInput {
  @Field(() => ID, { description: "The person's opaque id." })
  personId!: string;

  @Field(() => String, { description: "2-digit GB/T 2260 province code of the issuing province." })
  province!: string;

  @Field(() => String, { description: "The partner bank that loads its account on the card." })
  issuingBank!: string;

  @Field(() => GraphQLDateTime, { nullable: true, description: "Issue time; defaults to now." })
  issuedAt?: Date | null;

  @Field(() => String, { nullable: true, description: KEY })
  idempotencyKey?: string | null;
}

@InputType({ description: "Record that the holder collected the card." })
export class CollectCardInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "Collection time; defaults to now.",
  })
  collectedAt?: Date | null;

  @Field(() => String, { nullable: true, description: KEY })
  idempotencyKey?: string | null;
}

@InputType({ description: "Enable the card's social security function (R-CARD-3)." })
export class EnableSocialSecurityFunctionInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => String, { nullable: true, description: KEY })
  idempotencyKey?: string | null;
}

@InputType({
  description: "Report the card lost: temporarily (remote channels) or formally (counters).",
})
export class ReportCardLossInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => Boolean, {
    description: "true: temporary loss report; false: formal loss report at a counter.",
  })
  temporary!: boolean;

  @Field(() => String, { nullable: true, description: KEY })
  idempotencyKey?: string | null;
}

@InputType({ description: "Withdraw a loss report: the card returns to use (R-CARD-10)." })
export class WithdrawLossReportInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => String, { nullable: true, description: KEY })
  idempotencyKey?: string | null;
}

/**
 * A cancellation reason is a sentence a counter clerk types and every later reader of the card's
 * history sees: 200 characters hold any real reason (in Chinese, several sentences) while keeping
 * one history entry small. The bound is checked in code, not in the schema (its SDL is the
 * contract's and stays as it is).
 */
export const MAX_CANCEL_REASON_LENGTH = 200;

/** The reason of a CancelCardInput, trimmed; BAD_USER_INPUT naming `reason` before anything is written. */
export function checkCancelReason(reason: string): string {
  return checkFreeText("reason", reason, {
    max: MAX_CANCEL_REASON_LENGTH,
    required: true,
    what: "A cancellation reason",
  });
}

/**
 * The police-station certificate reference of a ReplaceCardInput (a document number, bounded as
 * every reference is), trimmed; null when not given.
 */
export function checkPoliceCertificateRef(ref: string | null | undefined): string | null {
  if (ref === null || ref === undefined) return null;
  return (
    checkFreeText("policeCertificateRef", ref, {
      max: MAX_REFERENCE_LENGTH,
      required: false,
      what: "A police certificate reference",
    }) || null
  );
}

@InputType({
  description:
    "Cancel a card (counter only). Its bank account must then be cancelled at the bank (R-BANK-3).",
})
export class CancelCardInput {
  @Field(() => ID, { description: "The card's id." })
  cardId!: string;

  @Field(() => String, { description: "Why the card is cancelled." })
  reason!: string;

  @Field(() => AgentInput, {
    nullable: true,
    description: "The agent acting for the holder, if any (R-ID-2).",
  })
  agent?: AgentInput | null;

  @Field(() => String, { description: KEY })
  idempotencyKey!: string;
}

@InputType({
  description:
    "Replace a card: the old one is cancelled and a new one (new number, same holder and region) is issued (R-CARD-9).",
})
export class ReplaceCardInput {
  @Field(() => ID, { description: "The card to replace." })
  cardId!: string;

  @Field(() => ReplacementReason, { description: "Why; decides the fee (R-CARD-8)." })
  reason!: ReplacementReason;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "Instant issuance (counters only): the new card starts NORMAL instead of ARCHIVED.",
  })
  instant?: boolean | null;

  @Field(() => AgentInput, {
    nullable: true,
    description: "The agent acting for the holder, if any (R-ID-2).",
  })
  agent?: AgentInput | null;

  @Field(() => String, {
    nullable: true,
    description:
      "When the holder has no original ID card and household register: reference of the police-station certificate that was checked instead (R-CARD-9). Recorded on the history.",
  })
  policeCertificateRef?: string | null;

  @Field(() => String, { description: KEY })
  idempotencyKey!: string;
}

@InputType({
  description:
    "Issue the electronic card bound to a physical card, after face verification (R-ECARD-1).",
})
export class IssueElectronicCardInput {
  @Field(() => ID, { description: "The physical card's id." })
  cardId!: string;

  @Field(() => Boolean, {
    description:
      "Result of the channel's face verification; false answers FACE_MISMATCH with remedies (R-ECARD-3).",
  })
  faceMatched!: boolean;

  @Field(() => String, { nullable: true, description: KEY })
  idempotencyKey?: string | null;
}
