import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf, personWithCard, run } from "./support/cards.js";
import { eventually } from "./support/eventually.js";
import { graphql, token, useTestHub } from "./support/hub.js";

const CHROMIUM = process.env["HUB_CHROMIUM"] ?? "/usr/bin/chromium";
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", "artifacts");

beforeAll(() => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's chromium package (.ci/run does) or set HUB_CHROMIUM.`,
    );
});
// As `npm start` runs it: development mode, on loopback.
const hub = useTestHub({ sandbox: true, gateway: { mode: "development" } });
const production = useTestHub({ sandbox: true, gateway: { mode: "production" }, seed: false });
let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
});

/** Replaces the content of the visible editor of the variables/headers pane. */
async function fillToolEditor(
  page: import("playwright-core").Page,
  tab: "Variables" | "Headers",
  text: string,
): Promise<void> {
  await page.getByText(tab, { exact: true }).first().click();
  await page.locator(".graphiql-editor-tool .view-lines:visible").first().click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  // insertText, not typing: the editor would auto-close brackets and quotes.
  await page.keyboard.insertText(text);
}

describe("the analyst sandbox in a real browser", () => {
  it("serves GraphiQL from the hub itself (no internet), the contract's operations as tabs; in development Run on PersonCards answers with no edit", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const outside: string[] = [];
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (
        !["127.0.0.1", "localhost"].includes(url.hostname) &&
        !url.protocol.startsWith("data") &&
        !url.protocol.startsWith("blob")
      )
        outside.push(request.url());
    });
    await page.goto(hub().gateway.url, { waitUntil: "networkidle" });
    for (const name of ["PersonCards", "PersonsByIds", "CardHistory", "ReplaceCard"])
      await expect(page.getByText(name, { exact: true }).first().isVisible()).resolves.toBe(true);

    const person = hub().demo!.persons.find((p) => p._id === hub().demo!.showcase.duplicates)!;
    const answered = page.waitForResponse(
      (r) =>
        r.request().method() === "POST" && (r.request().postData() ?? "").includes("PersonCards"),
    );
    // No token pasted, no variables typed: the page came with both.
    await page.getByLabel("Execute query (Ctrl-Enter)").click();
    const response = await answered;
    expect(JSON.parse(response.request().postData() ?? "{}").variables).toEqual({
      idNumber: person.idNumber,
    });
    const body = (await response.json()) as {
      data: {
        personByIdNumber: {
          cards: { number: string }[];
          duplicates: { actions: { action: string }[] }[];
        };
      };
    };
    const cards = hub().demo!.cards.filter((c) => c.personId === person._id);
    expect(body.data.personByIdNumber.cards.map((c) => c.number).sort()).toEqual(
      cards.map((c) => c.number).sort(),
    );
    expect(body.data.personByIdNumber.duplicates[0]!.actions.map((a) => a.action)).toContain(
      "CANCEL_BANK_ACCOUNT_AT_COUNTER",
    );
    // The result pane shows the answer (its editor renders the lines in view: the first card).
    const result = page.getByLabel("Result Window");
    await result
      .getByText(body.data.personByIdNumber.cards[0]!.number)
      .first()
      .waitFor({ timeout: 15_000 });
    await expect(result.innerText()).resolves.toMatch(/personByIdNumber/);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "sandbox.png") });

    // Another tab runs with its own example variables.
    // The tab bar animates its tabs; a dispatched click selects one without a drag.
    await page.locator('.graphiql-tab-button[title="CardHistory"]').dispatchEvent("click");
    // Run from the tab's editor once its operation is there (Ctrl-Enter, as an analyst would);
    // on a busy machine the editor may take the first key press before it has the tab's state.
    const editor = page.locator(".graphiql-query-editor .view-lines");
    await editor.getByText("query CardHistory").first().waitFor();
    let history: Response | null = null;
    for (let attempt = 0; attempt < 5 && !history; attempt++) {
      const answered = page
        .waitForResponse(
          (r) =>
            r.request().method() === "POST" &&
            (r.request().postData() ?? "").includes("CardHistory"),
          { timeout: 5_000 },
        )
        .catch(() => null);
      await editor.click();
      await page.keyboard.press("Control+Enter");
      history = await answered;
    }
    expect(history, "CardHistory ran").not.toBeNull();
    const historyBody = (await history!.json()) as {
      data: { card: { id: string; history: unknown[] } };
    };
    expect(historyBody.data.card.history.length).toBeGreaterThan(0);
    expect(outside).toEqual([]);
    await page.close();
  }, 60_000);

  it("runs the feed's CardEvents subscription (GraphQL over SSE): an event arrives in the result pane after a mutation made elsewhere", async () => {
    // A card whose CARD_ISSUED cursor the subscription resumes after: what follows arrives,
    // however long the stream takes to open.
    const { personId, cardId } = await personWithCard(hub().gateway.url);
    const issued = await eventually(async () => {
      const answer = await graphql<{ cardEventLog: { events: { cursor: string }[] } }>(
        hub().gateway.url,
        "query($personId: ID) { cardEventLog(personId: $personId) { events { cursor } } }",
        { personId },
        await token(),
      );
      const [first] = answer.data?.cardEventLog.events ?? [];
      expect(first).toBeDefined();
      return first!.cursor;
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(hub().gateway.url, { waitUntil: "networkidle" });
    await page.locator('.graphiql-tab-button[title="CardEvents"]').dispatchEvent("click");
    const editor = page.locator(".graphiql-query-editor .view-lines");
    await editor.getByText("subscription CardEvents").first().waitFor();
    await fillToolEditor(page, "Variables", JSON.stringify({ personId, after: issued }));
    let stream: import("playwright-core").Request | null = null;
    for (let attempt = 0; attempt < 5 && !stream; attempt++) {
      const opened = page
        .waitForRequest(
          (r) => r.method() === "POST" && (r.postData() ?? "").includes("CardEvents"),
          { timeout: 5_000 },
        )
        .catch(() => null);
      await editor.click();
      await page.keyboard.press("Control+Enter");
      stream = await opened;
    }
    expect(stream, "CardEvents ran").not.toBeNull();
    // Streamed at /graphql itself (a POST: the variables stay out of the URL) with the headers
    // pane's token, as a channel's client does.
    expect(new URL(stream!.url()).pathname).toBe("/graphql");
    expect(stream!.headers()["accept"]).toContain("text/event-stream");
    expect(stream!.headers()["authorization"]).toMatch(/^Bearer ey/);

    // The mutation comes from another channel (fetch, outside the page).
    const reported = await run(hub().gateway.url, "ReportCardLoss", { cardId, temporary: true });
    expect(codeOf(reported)).toBeUndefined();
    const result = page.getByLabel("Result Window");
    await result.getByText("LOSS_REPORTED").first().waitFor({ timeout: 15_000 });
    await expect(result.innerText()).resolves.toMatch(/TEMPORARY_LOSS/);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "sandbox-card-events.png") });
    await page.close();
  }, 60_000);

  it("in production nothing is pre-filled: a token is to be pasted, variables to be filled in", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(production().gateway.url, { waitUntil: "networkidle" });
    const html = await page.content();
    expect(html).not.toMatch(/Bearer ey/);
    await fillToolEditor(page, "Headers", JSON.stringify({ Authorization: "Bearer x" }));
    const answered = page.waitForResponse(
      (r) =>
        r.request().method() === "POST" && (r.request().postData() ?? "").includes("PersonCards"),
    );
    await page.getByLabel("Execute query (Ctrl-Enter)").click();
    const response = await answered;
    expect(JSON.parse(response.request().postData() ?? "{}").variables ?? {}).toEqual({});
    expect(response.status()).toBe(401);
    await page.close();
  }, 60_000);
});
