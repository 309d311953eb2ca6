import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unusedPort } from "@hub/harness";
import { freshIdNumber, run } from "./support/cards.js";
import { TEST_SECRET } from "./support/hub.js";

/**
 * The hub as `npm start` runs it — five processes on bundled code — with every process on a
 * non-default port: the subgraphs' relays must find each other where the settings say, so a
 * mutation's cross-subgraph effect is in its own answer.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let hub: ChildProcess;
let url: string;
let output = "";

beforeAll(async () => {
  const ports = await Promise.all(Array.from({ length: 5 }, () => unusedPort()));
  const [gateway, persons, cards, passwords, bank] = ports.map(String);
  hub = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "start.ts")], {
    cwd: root,
    env: {
      ...process.env,
      PORT: gateway,
      PERSONS_PORT: persons,
      CARDS_PORT: cards,
      PASSWORDS_PORT: passwords,
      BANK_ACCOUNTS_PORT: bank,
      HUB_JWT_SECRET: TEST_SECRET,
      HUB_SEED: "off",
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  url = `http://127.0.0.1:${gateway}/graphql`;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Card-status hub is up")) resolve();
    };
    hub.stdout!.on("data", onData);
    hub.stderr!.on("data", onData);
    hub.once("exit", (code) => reject(new Error(`npm start exited (${code}):\n${output}`)));
  });
}, 120_000);

afterAll(async () => {
  if (!hub || hub.exitCode !== null) return;
  const exited = new Promise((resolve) => hub.once("exit", resolve));
  hub.kill("SIGTERM");
  await exited;
});

describe("npm start on non-default ports for all five processes", () => {
  it("prints the gateway's own address, and effects cross subgraphs within the answer", async () => {
    expect(output).toContain(`GraphQL endpoint : ${url}`);
    const registered = await run<{ registerPerson: { person: { id: string } } }>(
      url,
      "RegisterPerson",
      { idNumber: freshIdNumber(), name: "端口" },
    );
    expect(registered.errors).toBeUndefined();
    const issued = await run<{
      issueCard: {
        card: { id: string; password: { state: string }; bankAccount: { status: string } };
      };
    }>(url, "IssueCard", {
      personId: registered.data!.registerPerson.person.id,
      province: "11",
      issuingBank: "中国银行",
    });
    expect(issued.errors).toBeUndefined();
    expect(issued.extensions?.["pendingEffects"]).toBeUndefined();
    const card = issued.data!.issueCard.card;
    expect(card.password.state).toBe("INITIAL");
    expect(card.bankAccount.status).toBe("NOT_ACTIVATED");

    const activated = await run<{
      activateFinancialFunction: { card: { socialSecurityFunction: { enabled: boolean } } };
    }>(
      url,
      "ActivateFinancialFunction",
      { cardId: card.id, idempotencyKey: "p-1" },
      "BANK_COUNTER",
    );
    expect(activated.errors).toBeUndefined();
    expect(activated.data!.activateFinancialFunction.card.socialSecurityFunction.enabled).toBe(
      true,
    );
  });
});
