// Walks caqmail's web page in headless Chromium as a user would, and
// prints what it saw as one JSON object.  Driven by
// tests/integration/test_web_browser.py, which passes its settings in
// the environment variable WALK (JSON).
"use strict";

const { chromium } = require("playwright-core");

const cfg = JSON.parse(process.env.WALK);
const seen = { states: [], errors: [] };

async function signIn(page, login, password) {
  await page.goto(cfg.url);
  await page.fill("#login-name", login);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.waitForSelector("#compose-view:not([hidden])");
}

async function pick(page, field, text, match) {
  await page.click(field + "-input");
  await page.keyboard.type(text, { delay: 40 });
  const item = page.locator(field + " .suggest li", { hasText: match });
  await item.first().waitFor();
  seen[field.slice(1) + "Suggestion"] = await item.first().innerText();
  await item.first().click();
}

async function compose(page) {
  await pick(page, "#to", cfg.listText, cfg.listName);
  await pick(page, "#cc", cfg.personText, cfg.personName);
  await page.check("#copy-to-me");
  await page.fill("#subject", cfg.subject);
  await page.fill("#body", cfg.text);
  await page.setInputFiles("#file", cfg.docx);
  const row = page.locator("#attachments li");
  await row.first().waitFor();
  await row.first().locator(".as-pdf").check();
  await page.click("#record");
  await page.keyboard.type(cfg.recordText, { delay: 40 });
  const rec = page.locator(".lookup .suggest li", { hasText: cfg.record });
  await rec.first().waitFor();
  await rec.first().click();
  seen.chips = await page.locator(".chip").evaluateAll(
    (cs) => cs.map((c) => c.dataset.ref));
  await page.screenshot({ path: cfg.artefacts + "/web-compose.png",
                          fullPage: true });
}

async function send(page) {
  await page.exposeFunction("reportState", (s) => seen.states.push(s));
  await page.evaluate(() => {
    const status = document.getElementById("send-status");
    new MutationObserver(() => window.reportState(status.dataset.state))
      .observe(status, { attributes: true, attributeFilter: ["data-state"] });
  });
  await page.click("#send");
  const done = ["sent", "failed", "error", "partly-sent", "deferred"]
    .map((s) => '#send-status[data-state="' + s + '"]').join(", ");
  await page.waitForSelector(done, { state: "attached", timeout: 240000 });
  seen.finalState = await page.getAttribute("#send-status", "data-state");
  seen.statusText = await page.innerText("#send-status");
}

async function history(page) {
  await page.click("#nav-history");
  await page.fill("#history-record", cfg.record);
  await page.click("#history-load");
  await page.waitForSelector("article.mail, #mails .empty");
  seen.mails = await page.locator("article.mail").evaluateAll((ms) =>
    ms.map((m) => ({
      subject: m.querySelector("h3").textContent,
      state: m.querySelector(".state").className,
      text: m.querySelector("pre.text").textContent,
      files: [...m.querySelectorAll(".files a")].map((a) => a.textContent),
      recipients: [...m.querySelectorAll("tr.rcpt")].map((r) => ({
        address: r.dataset.address,
        status: r.querySelector(".status").className,
      })),
    })));
}

(async () => {
  const browser = await chromium.launch({
    executablePath: cfg.chromium,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  try {
    const context = await browser.newContext({ locale: "de-DE" });
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") seen.errors.push(m.text());
    });
    await signIn(page, cfg.login, cfg.password);
    seen.errors = []; // the page's first question is who is signed in
    seen.language = await page.getAttribute("html", "lang");
    await compose(page);
    await send(page);
    await history(page);
    await page.screenshot({ path: cfg.artefacts + "/web-history.png",
                            fullPage: true });

    const other = await browser.newContext({ locale: "en-US" });
    const page2 = await other.newPage();
    await signIn(page2, cfg.otherLogin, cfg.otherPassword);
    seen.otherLanguage = await page2.getAttribute("html", "lang");
    seen.otherOutbox = await page2.isVisible("#nav-outbox");
    const mine = seen.mails;
    await history(page2);
    seen.otherMails = seen.mails;
    seen.otherEmpty = await page2.locator("#mails .empty").count();
    seen.mails = mine;

    const admin = await (await browser.newContext()).newPage();
    await signIn(admin, cfg.adminLogin, cfg.adminPassword);
    await admin.click("#nav-outbox");
    await admin.waitForSelector("#outbox tbody tr");
    seen.outbox = await admin.locator("#outbox tbody tr").evaluateAll(
      (rows) => rows.map((r) => ({
        id: r.dataset.id, state: r.querySelector(".state").className })));
    await admin.screenshot({ path: cfg.artefacts + "/web-outbox.png",
                             fullPage: true });
    await admin.locator("#outbox tbody tr button").nth(1).click();
    await admin.waitForSelector("#outbox tbody .state-cancelled, " +
                                "#outbox tbody:empty", { state: "attached" });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(seen) + "\n");
})().catch((e) => {
  process.stderr.write(String(e.stack || e) + "\n");
  process.exit(1);
});
