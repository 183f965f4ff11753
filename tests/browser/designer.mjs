// The designer in a real browser (Debian's chromium, driven by playwright-core), run by
// tests/designer_browser.rs, which starts the server on a copy of bottemplates and passes:
//   BASE    the server's URL        TOKEN   the admin token
//   SHOTS   the folder for the screenshots
// It opens the customer-support workflow, drags a HUMAN APPROVAL from the palette onto
// the edge between its first two steps, sees the empty approver's diagnostic on the new
// node and line, fills the approver and sees it go, reviews the diff and saves; then it
// starts a run and watches the new node turn waiting and, once approved, completed.
// Prints `inserted: <line>` and `workflow: <id>` for the Rust test, which checks the file
// on disk and the run. Every check throws with what it saw.
import { env, say, shot, expect, launch } from "./lib.mjs";

const BASE = env("BASE");
const TOKEN = env("TOKEN");
const APPROVER = "ops@example.com";

const api = async (method, path, body) => {
  const r = await fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, v: await r.json() };
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => { console.log(`browser: page error: ${e}`); process.exitCode = 1; });

  await page.goto(`${BASE}/login?next=${encodeURIComponent("/designer/customer-support-workflow/start")}`);
  await page.fill("#token", TOKEN);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  expect(new URL(page.url()).pathname === "/designer/customer-support-workflow/start", `login went to ${page.url()}`);
  await page.waitForFunction(() => document.getElementById("designer-status")?.textContent === "no errors");
  await shot(page, "designer-edit");

  // The text pane edits the source directly and the graph follows; a caret on a line
  // selects its node.
  const original = await page.inputValue("#text");
  const delays = async () => page.locator(".graph .node.k-delay").count();
  const d0 = await delays();
  const typed = original.replace('"analyze complaint"\n', '"analyze complaint"\n  STEP 9: DELAY 2\n');
  expect(typed !== original, "the seed workflow has no STEP 1 line to type after");
  await page.fill("#text", typed);
  await page.waitForFunction((n) => document.querySelectorAll(".graph .node.k-delay").length === n + 1, d0);
  expect((await page.textContent("#designer-status")).includes("not saved"), "typing did not mark the text unsaved");
  await page.fill("#text", original);
  await page.waitForFunction((n) => document.querySelectorAll(".graph .node.k-delay").length === n, d0);
  await page.waitForFunction(() => document.getElementById("designer-status").textContent === "no errors");
  await page.evaluate(() => {
    const t = document.getElementById("text");
    const at = t.value.indexOf('STEP 2: BOT "order-checker"');
    t.focus();
    t.setSelectionRange(at, at);
    t.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  });
  const picked = await page.evaluate(() => document.querySelector(".graph .node.selected title")?.textContent || "");
  expect(picked.includes("order-checker"), `a caret on STEP 2 selected ${picked}`);
  say("typing in the text pane redraws the graph; a line selects its node");

  // The edge from the first step (classifier) to the second (order-checker).
  const ids = await page.evaluate(() => {
    const byTitle = (t) => [...document.querySelectorAll(".graph .node")].find((n) => n.querySelector("title").textContent.includes(t))?.id;
    return { one: byTitle('"classifier"') || byTitle("classifier"), two: byTitle("order-checker") };
  });
  expect(ids.one && ids.two, `the first two steps were not found: ${JSON.stringify(ids)}`);
  const edge = page.locator(`.graph .edge-hit[data-from="${ids.one}"][data-to="${ids.two}"]`);
  expect((await edge.count()) === 1, `no edge to drop on from ${ids.one} to ${ids.two}`);
  await edge.scrollIntoViewIfNeeded();
  const e = await edge.boundingBox();
  const p = await page.locator('.palette-item[data-kind="approval"]').boundingBox();
  const before = (await page.locator(".graph .node.k-approval").count());
  // Drag the HUMAN APPROVAL from the palette and drop it on the edge.
  await page.mouse.move(p.x + p.width / 2, p.y + p.height / 2);
  await page.mouse.down();
  await page.mouse.move(e.x + e.width / 2, e.y + e.height / 2, { steps: 12 });
  expect((await page.locator(".graph .edge-hit.drop-target").count()) === 1, "the edge under the pointer is not marked as the drop target");
  await page.mouse.up();
  await page.waitForFunction((n) => document.querySelectorAll(".graph .node.k-approval").length === n + 1, before);
  say("a HUMAN APPROVAL dropped between the first two steps");

  // The new step is selected; its empty approver is an error on its node and its line.
  await page.waitForSelector('#node-form:not([hidden]) input[data-field="approver"]');
  expect((await page.inputValue('#node-fields input[data-field="approver"]')) === "", "the new approval's approver is not empty");
  await page.waitForFunction(() => document.getElementById("diagnostics").textContent.includes("names nobody"));
  const newNode = await page.evaluate(() => document.querySelector(".graph .node.selected")?.id);
  expect(newNode, "no node selected after the drop");
  expect(await page.locator(`#${newNode}`).evaluate((n) => n.classList.contains("d-error")), "the new node does not show its error");
  const errLine = await page.locator("#source .line.diag-error").first().textContent();
  expect(errLine.includes('HUMAN APPROVAL FROM ""'), `the error is on the line ${errLine}`);
  expect((await page.textContent("#designer-status")).includes("1 error"), `status: ${await page.textContent("#designer-status")}`);
  const text = await page.inputValue("#text");
  expect(text.includes('HUMAN APPROVAL FROM ""'), "the text pane does not hold the inserted step");
  await shot(page, "designer-diagnostic");
  say("the empty approver shows as an error on the node and its line");

  // Filling the approver makes the error go.
  await page.fill('#node-fields input[data-field="approver"]', APPROVER);
  await page.waitForFunction(() => !document.getElementById("diagnostics").textContent.includes("names nobody"));
  await page.waitForFunction(() => document.getElementById("designer-status").textContent.startsWith("no errors"));
  expect(!(await page.locator(`#${newNode}`).evaluate((n) => n.classList.contains("d-error"))), "the node still shows an error");
  const filled = await page.inputValue("#text");
  const inserted = filled.split("\n").filter((l) => l.includes(`HUMAN APPROVAL FROM "${APPROVER}"`));
  expect(inserted.length === 1, `the text holds ${inserted.length} approvals from ${APPROVER}`);
  say("filling the approver clears the error");

  // Review: the diff shows the inserted line only; then save.
  await page.click("#review-button");
  await page.waitForSelector("#review:not([hidden]) #save-confirm");
  const added = await page.locator("#review tr.diff-add").allTextContents();
  const removed = await page.locator("#review tr.diff-del").count();
  expect(added.length === 1 && added[0].includes(APPROVER) && removed === 0, `the diff adds ${JSON.stringify(added)} and removes ${removed}`);
  expect((await page.textContent("#review-running")).startsWith("0 execution"), `running: ${await page.textContent("#review-running")}`);
  await shot(page, "designer-review");
  await page.click("#save-confirm");
  await page.waitForFunction(() => document.getElementById("designer-status").textContent.startsWith("Saved"));
  say("reviewed and saved");
  console.log(`inserted: ${inserted[0]}`);

  // A run of the new version stops at the new approval; the node turns waiting, then
  // completed once it is approved, on the page as it stands (no reload).
  const started = await api("POST", "/api/workflows", { bot: "customer-support-workflow", script: "start", input: { order_amount: 50 } });
  expect(started.status === 201, `starting a run answered ${started.status}: ${JSON.stringify(started.v)}`);
  const wf = started.v.id;
  console.log(`workflow: ${wf}`);
  await page.goto(`${BASE}/designer/customer-support-workflow/start?execution=${wf}`);
  const node = () => page.locator(".graph .node.k-approval", { has: page.locator("title", { hasText: APPROVER }) });
  await page.waitForFunction(() => document.querySelector(".graph") !== null);
  let approval = null;
  for (let i = 0; i < 100 && !approval; i++) {
    const d = await api("GET", `/api/workflows/${wf}`);
    approval = d.v.waiting_for && d.v.waiting_for.approval_id;
    if (!approval) await sleep(100);
  }
  expect(approval, "the run never waited for the inserted approval");
  await page.waitForFunction((who) => {
    const n = [...document.querySelectorAll(".graph .node.k-approval")].find((x) => x.querySelector("title").textContent.includes(who));
    return n && n.classList.contains("s-waiting");
  }, APPROVER, { timeout: 15000 });
  expect((await node().count()) === 1, "the inserted approval is not on the run's graph");
  await page.evaluate(() => { window.__notReloaded = true; });
  await shot(page, "designer-run-waiting");
  say("the run waits at the inserted approval");
  const decided = await api("POST", `/api/approvals/${approval}`, { decision: "approve", comment: "from the designer test" });
  expect(decided.status === 200, `approving answered ${decided.status}: ${JSON.stringify(decided.v)}`);
  await page.waitForFunction((who) => {
    const n = [...document.querySelectorAll(".graph .node.k-approval")].find((x) => x.querySelector("title").textContent.includes(who));
    return n && n.classList.contains("s-completed") && document.querySelector(".graph .node.k-end.s-completed");
  }, APPROVER, { timeout: 20000 });
  expect(await page.evaluate(() => window.__notReloaded === true), "the page was reloaded");
  await shot(page, "designer-run-completed");
  say("approved: the node and the run completed, live");

  // A new workflow from a template, from the bot's page, opens in the designer.
  await page.goto(`${BASE}/bots/support`);
  await page.check('input[name="template"][value="content-moderation"]');
  await page.fill("#new-script-name", "moderate-posts");
  await Promise.all([page.waitForNavigation(), page.click(".new-script button[type=submit]")]);
  expect(new URL(page.url()).pathname === "/designer/support/moderate-posts", `creating went to ${page.url()}`);
  expect((await page.textContent(".notice")).includes("content-moderation"), "no notice of the template");
  await page.waitForFunction(() => document.getElementById("designer-status")?.textContent === "no errors");
  expect((await page.locator(".graph .node.k-approval").count()) >= 1, "the template's review approval is not drawn");
  await shot(page, "designer-from-template");
  say("a new workflow from a template opens in the designer");
  console.log("browser: ok");
} finally {
  await browser.close();
}
