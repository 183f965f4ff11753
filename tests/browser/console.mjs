// The console in a real browser (Debian's chromium, driven by playwright-core), run by
// tests/console_browser.rs, which starts the server and the workflows and passes:
//   BASE      the server's URL            TOKEN   the admin token
//   WF        a workflow waiting for its approval (the customer-support workflow)
//   WF_KEEP   a workflow that must not be cancelled by the forged posts below
//   CONV      a conversation id
//   APPROVE_ID, APPROVE_TOKEN   an approval request and its decision token
//   OTHER_ID                    another request, which that token must not decide
//   SHOTS     the folder for the screenshots
// Every check throws with what it saw; the exit status tells the Rust test.
import { env, say, shot, expect, launch } from "./lib.mjs";

const BASE = env("BASE");
const TOKEN = env("TOKEN");
const WF = env("WF");
const WF_KEEP = env("WF_KEEP");
const CONV = env("CONV");
const APPROVE_ID = env("APPROVE_ID");
const APPROVE_TOKEN = env("APPROVE_TOKEN");
const OTHER_ID = env("OTHER_ID");


const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();

  // A page without a session goes to the login form.
  await page.goto(`${BASE}/workflows`);
  expect(page.url().includes("/login"), `expected the login form, got ${page.url()}`);
  await shot(page, "login");

  // A wrong token is refused.
  await page.fill("#token", "not-the-token");
  const refused = await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  expect(refused[0] && refused[0].status() === 401, `a wrong token answered ${refused[0] && refused[0].status()}`);
  expect((await page.textContent("body")).includes("not the admin token"), "no refusal message for a wrong token");
  say("a wrong token is refused");

  // The right token logs in and goes on to the page asked for.
  await page.fill("#token", TOKEN);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  expect(new URL(page.url()).pathname === "/workflows", `after login: ${page.url()}`);
  const cookies = await ctx.cookies();
  const session = cookies.find((c) => c.name === "botserver_session");
  expect(session && session.httpOnly && session.sameSite === "Strict", `session cookie: ${JSON.stringify(session)}`);
  say("logged in with the admin token");

  // The workflow is in the list, waiting.
  const row = page.locator(`tr[data-id="${WF}"]`);
  await row.waitFor();
  expect((await row.getAttribute("data-status")) === "waiting", `list status ${await row.getAttribute("data-status")}`);
  await shot(page, "workflows");
  say("the workflow is waiting in the list");

  // Open it: waiting for the manager's approval.
  await Promise.all([page.waitForNavigation(), row.locator("a").first().click()]);
  expect(page.url().endsWith(`/workflows/${WF}`), `detail url ${page.url()}`);
  expect((await page.textContent("#status")).trim() === "waiting", "detail status is not waiting");
  expect((await page.textContent("#waiting")).includes("approval by manager@company.com"), "not waiting for the manager");
  await page.evaluate(() => { window.__notReloaded = true; });
  await shot(page, "workflow-waiting");
  say("the detail page shows the wait");

  // Approve it from the inbox in a second tab.
  const inbox = await ctx.newPage();
  await inbox.goto(`${BASE}/approvals`);
  const request = inbox.locator(`li.request:has(a[href="/workflows/${WF}"])`);
  await request.waitFor();
  await shot(inbox, "approvals");
  await request.locator("input[name=comment]").fill("approved in the browser test");
  await Promise.all([inbox.waitForNavigation(), request.locator("button[value=approve]").click()]);
  expect((await inbox.textContent("body")).includes("Approved."), "no notice after approving");
  say("approved from the inbox");

  // The detail page, never reloaded, turns to completed by itself.
  await page.waitForFunction(() => document.querySelector("#status")?.textContent.trim() === "completed", null, { timeout: 30000 });
  expect(await page.evaluate(() => window.__notReloaded === true), "the detail page was reloaded");
  await shot(page, "workflow-completed");
  say("the detail page went to completed without a reload");

  // The other pages render; screenshots of each.
  for (const [path, name] of [["/", "overview"], ["/events", "events"], ["/bots", "bots"],
    ["/bots/customer-support-workflow", "bot"], [`/conversations/${CONV}`, "conversation"]]) {
    const r = await page.goto(`${BASE}${path}`);
    expect(r.status() === 200, `${path} answered ${r.status()}`);
    await shot(page, name);
  }
  // The designer draws the workflow; a node shows its lines.
  const d = await page.goto(`${BASE}/designer/customer-support-workflow/start?execution=${WF}`);
  expect(d.status() === 200, `the designer answered ${d.status()}`);
  await page.click(".graph .node.k-approval");
  const approvalLine = await page.locator("#source .line.selected").first().textContent();
  expect(approvalLine.includes("HUMAN APPROVAL"), `the approval node selected ${approvalLine}`);
  expect((await page.locator(".graph .node.s-completed").count()) > 5, "the graph does not show the completed steps");
  await shot(page, "designer");
  // The phone's width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/workflows/${WF}`);
  await shot(page, "phone-workflow");
  await page.goto(`${BASE}/workflows`);
  await shot(page, "phone-workflows");
  say("every page renders; screenshots taken");

  // A form post without the CSRF token, or with a wrong one, is refused (the session
  // cookie alone is not enough).
  const bare = await page.request.post(`${BASE}/workflows/${WF_KEEP}/cancel`, { form: { confirm: "yes" }, maxRedirects: 0 });
  expect(bare.status() === 403, `a post without CSRF token answered ${bare.status()}`);
  const wrong = await page.request.post(`${BASE}/workflows/${WF_KEEP}/cancel`, { form: { confirm: "yes", csrf: "0".repeat(64) }, maxRedirects: 0 });
  expect(wrong.status() === 403, `a post with a wrong CSRF token answered ${wrong.status()}`);
  say("posts without a valid CSRF token are refused");

  // The approver's link works alone (no session) and decides only its own request.
  const approver = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const ap = await approver.newPage();
  const own = await ap.goto(`${BASE}/approve/${APPROVE_ID}?token=${encodeURIComponent(APPROVE_TOKEN)}`);
  expect(own.status() === 200, `the approver's link answered ${own.status()}`);
  expect((await ap.locator("a[href^='/workflows']").count()) === 0, "the approver's page links to the console");
  await shot(ap, "approver-link");
  const other = await ap.goto(`${BASE}/approve/${OTHER_ID}?token=${encodeURIComponent(APPROVE_TOKEN)}`);
  expect(other.status() === 403, `another request with this token answered ${other.status()}`);
  const console_ = await ap.goto(`${BASE}/workflows`);
  expect(new URL(ap.url()).pathname === "/login", `the approver reached ${ap.url()} (status ${console_.status()})`);
  await ap.goto(`${BASE}/approve/${APPROVE_ID}?token=${encodeURIComponent(APPROVE_TOKEN)}`);
  await ap.fill("#comment", "fine by me");
  await Promise.all([ap.waitForNavigation(), ap.click("button[value=approve]")]);
  expect((await ap.textContent("body")).includes("You approved this request"), "no confirmation for the approver");
  await shot(ap, "approver-decided");
  say("the approver's link decided its own request only");
  console.log("browser: ok");
} finally {
  await browser.close();
}
