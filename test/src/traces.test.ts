import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshIdNumber } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { contractOperation, TEST_SECRET, token, type GraphQLResponse } from "./support/hub.js";
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from "./support/otlp-receiver.js";
import { feedOperation } from "./support/feed-subscriber.js";
import { startSpawnedHub, type HubProcess, type SpawnedHub } from "./support/spawned-hub.js";

/**
 * Issue 26 (traces): the hub as deployed — the gateway and five subgraphs, each a bundled process
 * (`node dist/main.mjs`) — exporting to an OTLP/HTTP receiver this test starts.
 */

/** Every JSON log line a process wrote to its standard output, as it comes. */
function collectLogs(stdout: Readable | null): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  let rest = "";
  stdout?.on("data", (chunk: Buffer) => {
    const text = rest + chunk.toString("utf8");
    const parts = text.split("\n");
    rest = parts.pop() ?? "";
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  return lines;
}

/**
 * A contract operation through the gateway with a request id of our own. `# tag` makes the
 * document new to the gateway, so it is planned (and its plan traced) in this request.
 */
async function send<T>(
  url: string,
  operation: string,
  variables: Record<string, unknown>,
  requestId: string,
  tag: string = randomUUID(),
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${await token({ channel: "COUNTER" })}`,
      "x-request-id": requestId,
    },
    body: JSON.stringify({
      query: `${await contractOperation(operation)}\n# ${tag}`,
      variables,
    }),
  });
  return {
    status: response.status,
    ...((await response.json()) as Omit<GraphQLResponse<T>, "status">),
  };
}

/** A new person, registered through the gateway in the request `requestId`. */
async function registerPerson(
  url: string,
  requestId = `register-${randomUUID()}`,
): Promise<{ idNumber: string; personId: string }> {
  const idNumber = freshIdNumber();
  const registered = await send<{ registerPerson: { person: { id: string } } }>(
    url,
    "RegisterPerson",
    { input: { idNumber, name: "测试人" } },
    requestId,
  );
  expect(registered.errors).toBeUndefined();
  return { idNumber, personId: registered.data!.registerPerson.person.id };
}

const of = (spans: ReceivedSpan[], service: string, name: string | RegExp) =>
  spans.filter(
    (s) =>
      s.service === service && (typeof name === "string" ? s.name === name : name.test(s.name)),
  );

/** The one span of `service` named `name` in `spans`; fails naming what there is. */
function one(spans: ReceivedSpan[], service: string, name: string | RegExp): ReceivedSpan {
  const found = of(spans, service, name);
  expect(
    found.length,
    `${service} "${String(name)}" among ${spans.map((s) => `${s.service}:${s.name}`).join(", ")}`,
  ).toBe(1);
  return found[0]!;
}

const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
  spans.filter((s) => s.parentSpanId === parent.spanId);

/** `span` and every span below it. */
function subtree(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  return [span, ...childrenOf(spans, span).flatMap((child) => subtree(spans, child))];
}

const isMongo = (span: ReceivedSpan) => span.attributes["db.system.name"] === "mongodb";
const isMongoWrite = (span: ReceivedSpan) =>
  isMongo(span) &&
  /^(insert|update|delete|findAndModify)$/.test(String(span.attributes["db.operation.name"]));

describe("tracing on: HUB_OTLP_ENDPOINT names a collector", () => {
  let receiver: OtlpReceiver;
  let hub: SpawnedHub;
  const logs: Record<string, Record<string, unknown>[]> = {};
  let personId = "";
  let idNumber = "";
  const issueRequestId = `issue-${randomUUID()}`;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    hub = await startSpawnedHub({
      secret: TEST_SECRET,
      // Batches leave every 200 ms rather than 5 s: the test waits less.
      env: { HUB_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "200", LOG_LEVEL: "info" },
      logs: "pipe",
    });
    for (const [name, process] of Object.entries(hub.processes))
      logs[name] = collectLogs(process.child.stdout);
    ({ idNumber, personId } = await registerPerson(hub.url));
  }, 240_000);

  afterAll(async () => {
    await hub?.stop();
    await receiver?.stop();
  });

  /** The spans of the trace holding the gateway's span for `operation` (one such request). */
  function traceOf(operation: string): ReceivedSpan[] {
    const root = one(receiver.spans, "gateway", `graphql.operation ${operation}`);
    return receiver.spans.filter((s) => s.traceId === root.traceId);
  }

  it("one issueCard yields one trace: the gateway's request and plan, the cards subgraph's GraphQL and MongoDB, and the relay's deliveries to bank-accounts and passwords with their MongoDB writes", async () => {
    const issued = await send(
      hub.url,
      "IssueCard",
      { input: { personId, province: "44", issuingBank: "中国工商银行" } },
      issueRequestId,
    );
    expect(issued.errors).toBeUndefined();

    await eventually(
      async () => {
        const spans = traceOf("IssueCard");
        // The gateway: its request, the operation's parse, validate, plan and execute, each call.
        const request = one(spans, "gateway", "POST /graphql");
        expect(request.parentSpanId).toBe("");
        for (const name of ["graphql.parse", "graphql.validate", "graphql.execute", "graphql.plan"])
          one(spans, "gateway", name);
        // The planner is not Hive's: its span finds its parent in the context the gateway gives it.
        expect(one(spans, "gateway", "graphql.plan").parentSpanId).toBe(
          one(spans, "gateway", "graphql.execute").spanId,
        );
        const call = one(spans, "gateway", "subgraph.execute (cards)");
        // The cards subgraph, joined through the traceparent the gateway's transport sent.
        const served = one(spans, "cards", "POST /graphql");
        expect(served.parentSpanId).toBe(call.spanId);
        const below = subtree(spans, served);
        expect(below.some((s) => s.name === "graphql.parse")).toBe(true);
        const execute = below.find((s) => s.name === "mutation");
        expect(execute, "the cards subgraph's GraphQL execute span").toBeDefined();
        expect(
          subtree(spans, execute!).some(
            (s) => isMongoWrite(s) && s.attributes["db.collection.name"] === "cards",
          ),
          "the card's insert, below the cards subgraph's execute span",
        ).toBe(true);
        // The relay's deliveries of the events the mutation committed, in the mutation's trace.
        // (Further deliveries may follow in the trace: what the receivers' own events cause.)
        for (const destination of ["bank-accounts", "passwords"]) {
          const handled = of(spans, "cards", `event.deliver ${destination}`).flatMap((delivery) =>
            childrenOf(spans, delivery)
              .filter((s) => s.service === destination && s.name === "POST /events")
              .map((received) => subtree(spans, received))
              .filter((below) => below.some((s) => s.name === "event.apply CardIssued")),
          );
          expect(handled.length, `${destination} handled CardIssued below a delivery`).toBe(1);
          expect(
            handled[0]!.some(isMongoWrite),
            `${destination}'s MongoDB writes below its delivery`,
          ).toBe(true);
        }
      },
      20_000,
      200,
    );
  });

  it("log lines of that request carry its trace id next to its request id, in the gateway and in the subgraph", async () => {
    const traceId = one(receiver.spans, "gateway", "graphql.operation IssueCard").traceId;
    await eventually(
      async () => {
        for (const name of ["gateway", "cards"]) {
          const lines = logs[name]!.filter((line) => line["requestId"] === issueRequestId);
          expect(lines.length, `${name} logged the request`).toBeGreaterThan(0);
          for (const line of lines) {
            expect(line["trace_id"], `${name}: ${JSON.stringify(line)}`).toBe(traceId);
            expect(line["span_id"]).toMatch(/^[0-9a-f]{16}$/);
          }
        }
      },
      10_000,
      200,
    );
  });

  it("a PersonCards trace holds one span per subgraph fetch, each joined by that subgraph's own span", async () => {
    const answer = await send(hub.url, "PersonCards", { idNumber }, `cards-${randomUUID()}`);
    expect(answer.errors).toBeUndefined();
    await eventually(
      async () => {
        const spans = traceOf("PersonCards");
        const plan = one(spans, "gateway", "graphql.plan");
        const calls = of(spans, "gateway", /^subgraph\.execute /);
        expect(calls.length).toBe(plan.attributes["hub.plan.fetches"]);
        expect(
          new Set(calls.map((c) => c.attributes["hive.gateway.upstream.subgraph.name"])),
        ).toEqual(new Set(["persons", "cards", "bank-accounts", "passwords"]));
        for (const call of calls) {
          const subgraph = String(call.attributes["hive.gateway.upstream.subgraph.name"]);
          const served = childrenOf(spans, call);
          expect(served.map((s) => `${s.service}:${s.name}`)).toEqual([
            `${subgraph}:POST /graphql`,
          ]);
        }
      },
      20_000,
      200,
    );
  });

  it("a delivery whose batch carries several traces is a child of the first and links to each other; each event's handling links to its own", async () => {
    // Two people, each issued a card while the feed (an observer: nobody waits for it) is paused,
    // so that its lane holds both events when the feed comes back.
    const people: string[] = [];
    for (let i = 0; i < 2; i += 1) people.push((await registerPerson(hub.url)).personId);
    const feed = hub.processes["feed"]!.child;
    const requestIds = [`batch-a-${randomUUID()}`, `batch-b-${randomUUID()}`];
    feed.kill("SIGSTOP");
    try {
      for (const [i, personId] of people.entries()) {
        const issued = await send(
          hub.url,
          "IssueCard",
          { input: { personId, province: "44", issuingBank: "中国工商银行" } },
          requestIds[i]!,
        );
        expect(issued.errors).toBeUndefined();
      }
      // The feed comes back once the relay has failed to deliver both to it (its delivery timed
      // out): the next delivery sends them together.
      await eventually(
        async () => {
          expect(
            of(receiver.spans, "cards", "event.deliver feed").some(
              (s) =>
                s.attributes["hub.delivery.outcome"] === "failed" &&
                Number(s.attributes["messaging.batch.message_count"]) >= 2,
            ),
          ).toBe(true);
        },
        60_000,
        250,
      );
    } finally {
      feed.kill("SIGCONT");
    }
    const traceOfRequest = (requestId: string) =>
      logs["gateway"]!.find((line) => line["requestId"] === requestId)?.["trace_id"];
    await eventually(
      async () => {
        const [first, second] = requestIds.map(traceOfRequest);
        expect(first).toBeTruthy();
        expect(second).toBeTruthy();
        const both = of(receiver.spans, "cards", "event.deliver feed").find(
          (span) => span.traceId === first && span.links.some((link) => link.traceId === second),
        );
        expect(
          both,
          "a delivery to the feed in the first trace, linked to the second",
        ).toBeDefined();
        // The feed handled both events below that delivery, the second linked to its own trace.
        const received = receiver.spans.find(
          (span) => span.service === "feed" && span.parentSpanId === both!.spanId,
        );
        expect(received?.name).toBe("POST /events");
        const applied = subtree(receiver.spans, received!).filter((s) =>
          s.name.startsWith("event.apply "),
        );
        expect(applied.some((s) => s.links.some((link) => link.traceId === second))).toBe(true);
      },
      60_000,
      500,
    );
  }, 180_000);

  it("with the collector stalled, then down, the hub keeps answering; spans flow again once it is back", async () => {
    const ask = async () => {
      const started = performance.now();
      const answer = await send(hub.url, "PersonCards", { idNumber }, randomUUID(), "same");
      expect(answer.status).toBe(200);
      expect(answer.errors).toBeUndefined();
      return performance.now() - started;
    };
    receiver.mode = "hang";
    const stalled: number[] = [];
    for (let i = 0; i < 25; i += 1) stalled.push(await ask());
    await receiver.stop();
    const down: number[] = [];
    for (let i = 0; i < 25; i += 1) down.push(await ask());
    // Each answered as a query does on this machine: no request waits for an export.
    expect(Math.max(...stalled, ...down)).toBeLessThan(5_000);

    await receiver.start();
    receiver.mode = "answer";
    const before = receiver.spans.length;
    await send(hub.url, "PersonCards", { idNumber }, randomUUID());
    await eventually(
      async () => {
        expect(
          receiver.spans.slice(before).some((s) => s.name === "graphql.operation PersonCards"),
        ).toBe(true);
      },
      60_000,
      500,
    );
  }, 150_000);
});

describe("tracing off: HUB_OTLP_ENDPOINT unset", () => {
  let receiver: OtlpReceiver;
  let hub: SpawnedHub;
  const logs: Record<string, Record<string, unknown>[]> = {};

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    hub = await startSpawnedHub({
      secret: TEST_SECRET,
      // The variables an OpenTelemetry SDK left to its defaults would read: the hub must not.
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        LOG_LEVEL: "info",
      },
      logs: "pipe",
    });
    for (const [name, process] of Object.entries(hub.processes))
      logs[name] = collectLogs(process.child.stdout);
  }, 240_000);

  afterAll(async () => {
    await hub?.stop();
    await receiver?.stop();
  });

  it("no exporter runs and nothing is sent; log lines carry no trace", async () => {
    const requestId = `off-${randomUUID()}`;
    const { idNumber, personId } = await registerPerson(hub.url, requestId);
    const issued = await send(
      hub.url,
      "IssueCard",
      { input: { personId, province: "44", issuingBank: "中国工商银行" } },
      requestId,
    );
    expect(issued.errors).toBeUndefined();
    expect((await send(hub.url, "PersonCards", { idNumber }, requestId)).errors).toBeUndefined();
    // Long past an exporter's batch delay (5 s by default), and the lines are flushed (1 s).
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(receiver.requests).toBe(0);
    const lines = Object.values(logs).flat();
    expect(lines.filter((line) => line["requestId"] === requestId).length).toBeGreaterThan(0);
    expect(lines.filter((line) => "trace_id" in line)).toEqual([]);
  }, 30_000);
});

const METRICS_TOKEN = "metrics-token-for-trace-tests";

/** A process's hub_trace_context_carried_seconds_total, from its /metrics. */
async function carriedSeconds(process: HubProcess): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${process.port}/metrics`, {
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  expect(response.status).toBe(200);
  const line = (await response.text())
    .split("\n")
    .find((l) => l.startsWith("hub_trace_context_carried_seconds_total "));
  expect(line, "hub_trace_context_carried_seconds_total").toBeDefined();
  return Number(line!.split(" ")[1]);
}

describe("sampling: the gateway at HUB_TRACE_SAMPLE_RATIO=0, the subgraphs at 1", () => {
  let receiver: OtlpReceiver;
  let hub: SpawnedHub;
  let gatewayLogs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    hub = await startSpawnedHub({
      secret: TEST_SECRET,
      env: { HUB_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "200", LOG_LEVEL: "info" },
      gatewayEnv: { HUB_TRACE_SAMPLE_RATIO: "0", HUB_METRICS_TOKEN: METRICS_TOKEN },
      logs: "pipe",
    });
    gatewayLogs = collectLogs(hub.processes["gateway"]!.child.stdout);
  }, 240_000);

  afterAll(async () => {
    await hub?.stop();
    await receiver?.stop();
  });

  it("a request the gateway does not sample is traced nowhere, the subgraphs told so; a client's sampled traceparent is followed", async () => {
    // Once start-up is over, no subgraph carries trace context: two readings in a row agree.
    const settled = async (name: string) =>
      eventually(async () => {
        const first = await carriedSeconds(hub.processes[name]!);
        expect(await carriedSeconds(hub.processes[name]!)).toBe(first);
        return first;
      });
    // The gateway never carries any: Hive's plugin parents its spans from each request's own state.
    expect(await carriedSeconds(hub.processes["gateway"]!)).toBe(0);
    const personsBefore = await settled("persons");
    // A read with no effects (an unknown person): no event delivery starts a trace of its own.
    const idNumber = freshIdNumber();
    const quiet = `unsampled-${randomUUID()}`;
    expect((await send(hub.url, "PersonCards", { idNumber }, quiet)).errors).toBeUndefined();
    // Its log line names the ids its subgraph calls carried, "not sampled".
    const line = await eventually(async () => {
      const found = gatewayLogs.find((l) => l["requestId"] === quiet && "trace_id" in l);
      expect(found).toBeDefined();
      return found!;
    });
    expect(line["trace_flags"]).toBe("00");
    expect(line["trace_id"]).toMatch(/^[0-9a-f]{32}$/);
    // Not sampled: no process carried its trace context across its awaits (which would make every
    // request of the process pay Node's promise hook meanwhile).
    expect(await carriedSeconds(hub.processes["persons"]!)).toBe(personsBefore);

    // The same read, sampled by its client.
    const traceId = randomUUID().replaceAll("-", "");
    const response = await fetch(hub.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await token({ channel: "COUNTER" })}`,
        "x-request-id": `sampled-${randomUUID()}`,
        traceparent: `00-${traceId}-${traceId.slice(0, 16)}-01`,
      },
      body: JSON.stringify({
        query: await contractOperation("PersonCards"),
        variables: { idNumber },
      }),
    });
    expect(response.status).toBe(200);
    await eventually(async () => {
      one(receiver.spans, "gateway", "graphql.operation PersonCards");
      expect(of(receiver.spans, "persons", /^POST \/graphql$/).length).toBeGreaterThan(0);
    });
    // The gateway's request span is the child of the client's span.
    const request = one(
      receiver.spans.filter((s) => s.traceId === traceId),
      "gateway",
      "POST /graphql",
    );
    expect(request.parentSpanId).toBe(traceId.slice(0, 16));
    // Each process exports its spans in the order they end: the persons subgraph's span of the
    // sampled read is in, so any of the first read's would be. Had the gateway not told it "not
    // sampled", the subgraph (ratio 1) would have traced that read as a trace of its own.
    expect(
      receiver.spans.filter((s) => s.traceId !== traceId).map((s) => `${s.service}:${s.name}`),
    ).toEqual([]);
    // The sampled read was carried in the subgraph (its instrumentations need it) while it was
    // open; in the gateway, not even then.
    expect(await carriedSeconds(hub.processes["persons"]!)).toBeGreaterThan(personsBefore);
    expect(await carriedSeconds(hub.processes["gateway"]!)).toBe(0);
  }, 60_000);

  it("the gateway's log line about a subgraph that could not be reached names the request and its trace", async () => {
    // A person with a card, whose password the read asks passwords for.
    const { idNumber, personId } = await registerPerson(hub.url);
    const issued = await send(
      hub.url,
      "IssueCard",
      { input: { personId, province: "44", issuingBank: "中国银行" } },
      `issue-${randomUUID()}`,
    );
    expect(issued.errors).toBeUndefined();
    const passwords = hub.processes["passwords"]!.child;
    const gone = new Promise((resolve) => passwords.once("exit", resolve));
    passwords.kill("SIGKILL");
    await gone;
    const traceId = randomUUID().replaceAll("-", "");
    const requestId = `unreachable-${randomUUID()}`;
    const response = await fetch(hub.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await token({ channel: "COUNTER" })}`,
        "x-request-id": requestId,
        traceparent: `00-${traceId}-${traceId.slice(0, 16)}-01`,
      },
      body: JSON.stringify({
        query: await contractOperation("PersonCards"),
        variables: { idNumber },
      }),
    });
    const answer = (await response.json()) as GraphQLResponse<unknown>;
    expect(answer.errors?.map((e) => e.extensions?.["code"])).toContain("SERVICE_UNAVAILABLE");
    const line = await eventually(async () => {
      const found = gatewayLogs.find((l) => l["msg"] === "subgraph unavailable");
      expect(found).toBeDefined();
      return found!;
    });
    expect(line["requestId"]).toBe(requestId);
    expect(line["trace_id"]).toBe(traceId);
    expect(line["trace_flags"]).toBe("01");
  }, 60_000);
});

describe("a process that stops", () => {
  let receiver: OtlpReceiver;
  let hub: SpawnedHub;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    hub = await startSpawnedHub({
      secret: TEST_SECRET,
      // Nothing leaves on the exporter's timer while the test runs: only a flush sends spans.
      env: { HUB_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "600000" },
    });
  }, 240_000);

  afterAll(async () => {
    await hub?.stop();
    await receiver?.stop();
  });

  it("sends the spans it holds when told to stop (its exporter's timer would not for minutes), a stream of a sampled trace still open, and those of a request that ends while it drains", async () => {
    // A person to issue a card to (every request here is sampled: the ratio is left at 1).
    const { idNumber, personId } = await registerPerson(hub.url);

    const traceId = randomUUID().replaceAll("-", "");
    const stream = await fetch(hub.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${await token({ channel: "COUNTER" })}`,
        traceparent: `00-${traceId}-${traceId.slice(0, 16)}-01`,
      },
      body: JSON.stringify({ query: await feedOperation("CardEvents") }),
    });
    expect(stream.status).toBe(200);

    // An issue that is still running when the signal comes: bank-accounts is stopped, so cards
    // waits HUB_EFFECT_WAIT_MS (3 s) for its effect there before it answers, and the gateway's
    // spans of the request end while it drains (at most 5 s), after the signal.
    const bankAccounts = hub.processes["bank-accounts"]!.child;
    bankAccounts.kill("SIGSTOP");
    try {
      const issuing = fetch(hub.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${await token({ channel: "COUNTER" })}`,
        },
        // The card's own fields only: the gateway calls cards alone.
        body: JSON.stringify({
          query:
            "mutation IssueCard($input: IssueCardInput!) { issueCard(input: $input) { card { id status } } }",
          variables: { input: { personId, province: "44", issuingBank: "中国银行" } },
        }),
      }).then((response) => response.json() as Promise<GraphQLResponse<{ issueCard: unknown }>>);
      // Running: cards has written the card and waits for its effects (read without the card's
      // bank account and password, whose subgraph would not answer).
      await eventually(async () => {
        const read = await fetch(hub.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${await token({ channel: "COUNTER" })}`,
          },
          body: JSON.stringify({
            query: "query Cards($n: String!) { personByIdNumber(idNumber: $n) { cards { id } } }",
            variables: { n: idNumber },
          }),
        });
        const answer = (await read.json()) as GraphQLResponse<{
          personByIdNumber: { cards: unknown[] };
        }>;
        expect(answer.data?.personByIdNumber.cards.length).toBe(1);
      });
      const gateway = hub.processes["gateway"]!.child;
      const exited = new Promise((resolve) => gateway.once("exit", resolve));
      gateway.kill("SIGTERM");
      // The gateway finishes the request before it stops.
      const issued = await issuing;
      expect(issued.errors).toBeUndefined();
      expect(issued.data?.issueCard).toBeTruthy();
      await exited;
    } finally {
      bankAccounts.kill("SIGCONT");
    }

    await eventually(async () => {
      // The stream's spans, which it held when the signal came; its plan (the gateway's first
      // CardEvents) made in its operation's context.
      const streamed = receiver.spans.filter((s) => s.traceId === traceId);
      expect(one(streamed, "gateway", "graphql.plan").parentSpanId).toBe(
        one(streamed, "gateway", "graphql.operation CardEvents").spanId,
      );
      // The issue's, which ended after it: its request, its operation, its call to cards.
      const issue = one(receiver.spans, "gateway", "graphql.operation IssueCard");
      const spans = receiver.spans.filter((s) => s.traceId === issue.traceId);
      one(spans, "gateway", "POST /graphql");
      one(spans, "gateway", "subgraph.execute (cards)");
    });
  }, 60_000);
});
