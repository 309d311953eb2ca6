import type { Answer } from "./client.js";

// What a chaos client knows of its cards, and the small helpers its steps share.

export const INITIAL_PASSWORD = "123456";
/** Six digits, neither a run nor one digit repeated (the password policy). */
export const PASSWORDS = ["802615", "394857", "571302", "640918"];

/** What a client believes of one of its cards, from the answers it got. */
export interface CardState {
  id: string;
  personId: string;
  idNumber: string;
  status: string;
  collected: boolean;
  enabled: boolean;
  electronic: boolean;
  password: string;
  /** A new password whose change got no answer: the password if the card's shows SET. */
  triedPassword: string | null;
  account: string;
}

export type Step = (card: CardState) => Promise<void>;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const field = (value: unknown, key: string): unknown =>
  value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
export const applied = (answer: Answer) => answer.outcome === "ok" || answer.outcome === "partial";
