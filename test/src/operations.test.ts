import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { eventually } from "./support/eventually.js";
import {
  contractOperation,
  graphql,
  startTestHub,
  useTestHub,
  TEST_SECRET,
  token,
} from "./support/hub.js";

const METRICS_TOKEN = "metrics-token-for-tests";
const hub = useTestHub({ gateway: { metricsToken: METRICS_TOKEN } });

interface PartialCards {
  personByIdNumber: {
    name: string;
    cards: {
      id: string;
      status: string;
      password: { state: string } | null;
      bankAccount: { status: string } | null;
    }[];
    electronicCardPassword: { state: string } | null;
  } | null;
}

async function personCards() {
  const person = hub().demo!.persons.find((p) => p._id === hub().demo!.showcase.duplicates)!;
  return graphql<PartialCards>(
    hub().gateway.url,
    await contractOperation("PersonCards"),
    { idNumber: person.idNumber },
    await token(),
  );
}

const readyz = () => fetch(new URL("/readyz", hub().gateway.url));

describe("graceful degradation", () => {
  it("a stopped subgraph: the other parts still answer, the missing part is SERVICE_UNAVAILABLE, /readyz is 503; all back within 5 s of its restart", async () => {
    expect((await readyz()).status).toBe(200);
    await hub().stopSubgraph("passwords");
    try {
      const partial = await personCards();
      const answer = partial.data!.personByIdNumber!;
      expect(answer.name).toBeTruthy();
      expect(answer.cards.length).toBeGreaterThan(0);
      for (const card of answer.cards) {
        expect(card.status).toBeTruthy();
        expect(card.bankAccount?.status).toBeTruthy();
        expect(card.password).toBeNull();
      }
      expect(partial.errors!.map((e) => e.extensions?.["code"])).toContain("SERVICE_UNAVAILABLE");
      expect(JSON.stringify(partial.errors)).not.toMatch(/passwords|127\.0\.0\.1|ECONNREFUSED/);
      const ready = await readyz();
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({
        ready: false,
        subgraphs: { passwords: "unavailable", cards: "ready" },
      });
    } finally {
      await hub().startSubgraph("passwords");
    }
    await eventually(async () => {
      const full = await personCards();
      expect(full.errors).toBeUndefined();
      expect(full.data!.personByIdNumber!.cards.every((c) => c.password !== null)).toBe(true);
    }, 5_000);
    expect((await readyz()).status).toBe(200);
  });

  it("a slow subgraph cannot hold a request: the per-subgraph timeout answers the rest with SERVICE_UNAVAILABLE for its part; requests past the in-flight limit are shed with 503", async () => {
    // Never answers; says when the gateway's subgraph call has arrived (the request is in flight).
    let reached!: () => void;
    const upstreamCalled = new Promise<void>((resolve) => (reached = resolve));
    const hanging: Server = createServer(() => reached());
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const slowHub = await startTestHub({
      gateway: { upstreamTimeoutMs: 500, maxInFlight: 1 },
      subgraphUrlOverrides: {
        "bank-accounts": `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/graphql`,
      },
    });
    try {
      const person = slowHub.demo!.persons[0]!;
      const held = graphql<PartialCards>(
        slowHub.gateway.url,
        await contractOperation("PersonCards"),
        { idNumber: person.idNumber },
        await token(),
      );
      await upstreamCalled;
      // The one request allowed in flight is waiting on the slow subgraph: the next is shed.
      const shed = await fetch(slowHub.gateway.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await token()}` },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
      expect(shed.status).toBe(503);
      expect(shed.headers.get("retry-after")).toBe("1");
      expect(
        ((await shed.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!
          .extensions.code,
      ).toBe("SERVICE_UNAVAILABLE");
      expect((await fetch(`${slowHub.gateway.origin}/healthz`)).status).toBe(200);
      // It is answered at all only because the per-subgraph timeout gave up on the hanging call.
      const response = await held;
      expect(response.data!.personByIdNumber!.cards.length).toBeGreaterThan(0);
      expect(response.data!.personByIdNumber!.cards.every((c) => c.bankAccount === null)).toBe(
        true,
      );
      expect(response.errors!.map((e) => e.extensions?.["code"])).toContain("SERVICE_UNAVAILABLE");
      expect(JSON.stringify(response.errors)).not.toMatch(/127\.0\.0\.1|variables|endpoint/);
      // Its slot is free again once it has been answered.
      const after = await graphql<{ __typename: string }>(
        slowHub.gateway.url,
        "{ __typename }",
        {},
        await token(),
      );
      expect(after.data?.__typename).toBe("Query");
    } finally {
      await slowHub.stop();
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it("the database unreachable: SERVICE_UNAVAILABLE while it is down (no hang until it returns), and recovery without a restart", async () => {
    const dbHub = await startTestHub({ seed: false });
    try {
      const query = 'query { person(id: "p_any") { id } }';
      expect((await graphql(dbHub.gateway.url, query, {}, await token())).errors).toBeUndefined();
      await dbHub.stopDatabase();
      // Answered before the database is started again: the request does not wait for it.
      const down = await graphql(dbHub.gateway.url, query, {}, await token());
      expect(down.errors!.map((e) => e.extensions?.["code"])).toContain("SERVICE_UNAVAILABLE");
      await dbHub.startDatabase();
      await eventually(
        async () =>
          expect(
            (await graphql(dbHub.gateway.url, query, {}, await token())).errors,
          ).toBeUndefined(),
        15_000,
      );
    } finally {
      await dbHub.stop();
    }
  });
});

describe("operations endpoints", () => {
  it("/healthz answers 200; /metrics needs its token and shows requests, latency, errors by code, subgraph fetches and the outbox", async () => {
    expect((await fetch(new URL("/healthz", hub().gateway.url))).status).toBe(200);
    await personCards();
    await graphql(
      hub().gateway.url,
      await contractOperation("PersonCards"),
      { idNumber: "bad" },
      await token(),
    );
    expect((await fetch(new URL("/metrics", hub().gateway.url))).status).toBe(401);
    const metrics = await (
      await fetch(new URL("/metrics", hub().gateway.url), {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      })
    ).text();
    expect(metrics).toMatch(
      /hub_graphql_request_duration_seconds_bucket\{.*operation="PersonCards"/,
    );
    expect(metrics).toMatch(
      /hub_graphql_errors_total\{operation="PersonCards",channel="COUNTER",code="INVALID_ID_NUMBER"\} [1-9]/,
    );
    expect(metrics).toMatch(/hub_subgraph_fetch_duration_seconds_bucket\{.*subgraph="cards"/);
    expect(metrics).toMatch(/hub_outbox_pending\{subgraph="cards",lane="bank-accounts"\} \d+/);
    expect(metrics).toMatch(/hub_outbox_lag_seconds\{subgraph="bank-accounts",lane="cards"\}/);
  });

  it("SIGTERM: the gateway process stops accepting, finishes the request in flight, and exits 0", async () => {
    // bank-accounts behind a stand-in that holds the query's call until released: a PersonCards
    // request is then really in flight in the gateway when SIGTERM arrives.
    const bankAccounts = hub().subgraphs.get("bank-accounts")!.url;
    let reached!: () => void;
    const upstreamCalled = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let armed = false;
    const holding: Server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        // Only the query's own call (the cards' bank accounts, as entities), once armed: the
        // gateway's own calls at start-up go through.
        const graphqlCall =
          armed && request.method === "POST" && Buffer.concat(chunks).includes("_entities");
        if (graphqlCall) reached();
        const headers = Object.fromEntries(
          Object.entries(request.headers).filter(
            (entry): entry is [string, string] =>
              typeof entry[1] === "string" &&
              !["host", "connection", "content-length", "keep-alive"].includes(entry[0]),
          ),
        );
        void (graphqlCall ? released : Promise.resolve())
          .then(() =>
            fetch(new URL(request.url ?? "/", bankAccounts), {
              method: request.method,
              headers,
              body: request.method === "POST" ? Buffer.concat(chunks) : undefined,
            }),
          )
          .then(async (upstream) => {
            response.writeHead(upstream.status, {
              "content-type": upstream.headers.get("content-type") ?? "application/json",
            });
            response.end(Buffer.from(await upstream.arrayBuffer()));
          })
          .catch(() => response.destroy());
      });
    });
    await new Promise<void>((resolve) => holding.listen(0, "127.0.0.1", resolve));
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "gateway/src/main.ts")], {
      cwd: root,
      env: {
        ...process.env,
        PORT: "0",
        HUB_JWT_SECRET: TEST_SECRET,
        LOG_LEVEL: "info",
        HUB_SANDBOX: "off",
        PERSONS_URL: hub().subgraphs.get("persons")!.url,
        CARDS_URL: hub().subgraphs.get("cards")!.url,
        PASSWORDS_URL: hub().subgraphs.get("passwords")!.url,
        BANK_ACCOUNTS_URL: `http://127.0.0.1:${(holding.address() as AddressInfo).port}/graphql`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    try {
      const url = await eventually(async () => {
        const listening = /gateway listening/.test(output) && /"url":"([^"]+)"/.exec(output);
        expect(listening, `exit ${String(child.exitCode)}: ${output}`).toBeTruthy();
        return (listening as RegExpExecArray)[1]!;
      }, 45_000);
      const person = hub().demo!.persons.find((p) => p._id === hub().demo!.showcase.duplicates)!;
      armed = true;
      const inFlight = graphql<PartialCards>(
        url,
        await contractOperation("PersonCards"),
        { idNumber: person.idNumber },
        await token(),
      );
      await upstreamCalled;
      child.kill("SIGTERM");
      await eventually(async () => expect(output).toMatch(/stopping/));
      // Stopped accepting: a new connection is refused while the held request is still open.
      await eventually(async () =>
        expect(
          await fetch(url, { method: "POST", headers: { connection: "close" } }).then(
            () => "accepted",
            () => "refused",
          ),
        ).toBe("refused"),
      );
      release();
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      expect(answer.errors).toBeUndefined();
      const cards = answer.data!.personByIdNumber!.cards;
      expect(cards.length).toBeGreaterThan(0);
      // The held part (bank-accounts) came back whole after the signal.
      for (const card of cards) expect(card.bankAccount?.status).toBeTruthy();
      expect(await exited).toBe(0);
    } finally {
      release();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      holding.closeAllConnections();
      holding.close();
    }
    // A gateway started from source (tsx): its start-up alone took 17 s on a busy 2-core machine.
  }, 90_000);
});
