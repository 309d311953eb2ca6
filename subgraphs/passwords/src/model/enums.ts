import { registerEnumType } from "type-graphql";

/** State of a card's social security password (R-PWD-2, R-PWD-3). */
export const PasswordState = { INITIAL: "INITIAL", SET: "SET", LOCKED: "LOCKED" } as const;
export type PasswordState = (typeof PasswordState)[keyof typeof PasswordState];

registerEnumType(PasswordState, {
  name: "PasswordState",
  description: "State of a card's social security password.",
  valuesConfig: {
    INITIAL: {
      description:
        "Still the initial password of a new card (or reset to it); the holder should change it (R-PWD-2).",
    },
    SET: { description: "Changed by the holder." },
    LOCKED: {
      description:
        "Locked after six consecutive wrong entries; only an in-person or website reset unlocks it (R-PWD-3).",
    },
  },
});

/** State of a person's electronic-card password (R-PWD-4). */
export const ElectronicCardPasswordState = {
  NOT_SET: "NOT_SET",
  SET: "SET",
  LOCKED: "LOCKED",
} as const;
export type ElectronicCardPasswordState =
  (typeof ElectronicCardPasswordState)[keyof typeof ElectronicCardPasswordState];

registerEnumType(ElectronicCardPasswordState, {
  name: "ElectronicCardPasswordState",
  description:
    "State of the electronic-card password, one per person and shared by every channel (R-PWD-4).",
  valuesConfig: {
    NOT_SET: { description: "No electronic-card password has been set yet." },
    SET: { description: "Set and usable on every channel." },
    LOCKED: {
      description:
        "Locked on every channel after more than six wrong entries; lifts by itself 24 hours after it began.",
    },
  },
});
