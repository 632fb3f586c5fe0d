// End-to-end test of the observatory page in headless Chromium (Debian's), against a real
// `aion serve` on loopback. Run by tests/web.rs:
//   node e2e/observatory.spec.mjs http://127.0.0.1:PORT ARTIFACT_DIR
// A director and an observer, each in its own browser context (own storage), register in the
// page; the director starts a world, the observer joins it and watches; the director pauses,
// narrates, injects an insult and steps, and both see the effect in the feed.
// Prints one line per check and exits non-zero on the first failure.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [base, artifacts = 'e2e-artifacts'] = process.argv.slice(2);
if (!base) {
  console.error('usage: node e2e/observatory.spec.mjs BASE_URL [ARTIFACT_DIR]');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const CHROMIUM = process.env.AION_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const T = 20_000;
const tag = Date.now().toString(36).slice(-6);

const problems = [];
function check(cond, what) {
  if (!cond) throw new Error(`FAILED: ${what}`);
  console.log(`ok - ${what}`);
}
async function shot(page, name) {
  const path = join(artifacts, `${name}.png`);
  await page.screenshot({ path });
  console.log(`screenshot ${path}`);
}
function watchErrors(page, who) {
  page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${who}: console error: ${m.text()}`);
  });
}
const tid = (id) => `[data-testid="${id}"]`;
const tick = (page) => page.$eval(tid('tick'), (e) => Number(e.dataset.tick || 0));

async function register(page, name) {
  await page.goto(base);
  await page.waitForSelector(tid('login'), { timeout: T });
  await page.fill(tid('username'), name);
  await page.fill(tid('password'), 'correct horse battery');
  await page.click(tid('register'));
  await page.waitForSelector(`${tid('sessions')} ${tid('session')}`, { timeout: T });
}

async function feedTexts(page) {
  return page.$$eval(`${tid('feed')} ${tid('feed-item')}`, (els) =>
    els.map((e) => ({ kind: e.dataset.kind, tick: Number(e.dataset.tick), text: e.textContent })),
  );
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
try {
  const viewport = { width: 1440, height: 900 };
  const dctx = await browser.newContext({ viewport });
  const octx = await browser.newContext({ viewport });
  const director = await dctx.newPage();
  const observer = await octx.newPage();
  watchErrors(director, 'director');
  watchErrors(observer, 'observer');

  // The page loads and a new user registers.
  await director.goto(base);
  await director.waitForSelector(tid('login'), { timeout: T });
  check((await director.title()).includes('Aion'), 'the page loads at /');
  await shot(director, '01-sign-in');
  await register(director, `dir_${tag}`);
  check(await director.isVisible(`${tid('session')}:has-text("Harbor Town")`), 'signed in: the session list shows Harbor Town');
  await shot(director, '02-sessions');

  // The director starts a world: as its owner it gets the controls.
  await director.fill(tid('new-session-name'), `E2E ${tag}`);
  await director.selectOption(tid('new-session-scenario'), 'harbor_town');
  await director.click(tid('create'));
  await director.waitForSelector(`${tid('role')}:has-text("owner")`, { timeout: T });
  await director.waitForSelector(tid('pause'), { state: 'visible', timeout: T });
  check(true, 'the owner sees the director controls');
  const url = director.url();
  const sessionId = Number(url.match(/\/session\/(\d+)/)?.[1]);
  check(sessionId > 1, `the new session has its own page (${url})`);

  // The observer registers and joins that session from the list.
  await register(observer, `obs_${tag}`);
  await observer.click(`${tid('session')}[data-id="${sessionId}"] ${tid('watch')}`);
  await observer.waitForSelector(`${tid('role')}:has-text("observer")`, { timeout: T });
  check(true, 'the observer joined the session');

  // Live interactions arrive in the feed.
  await observer.waitForSelector(`${tid('feed-item')}.dialogue`, { timeout: T });
  const first = await feedTexts(observer);
  const t0 = Math.max(...first.map((e) => e.tick));
  await observer.waitForFunction(
    (t) => [...document.querySelectorAll('[data-testid="feed-item"]')].some((e) => Number(e.dataset.tick) > t),
    t0,
    { timeout: T },
  );
  const later = await feedTexts(observer);
  check(later.some((e) => e.tick > t0 && e.kind), `new events arrive live (after tick ${t0}: ${later.filter((e) => e.tick > t0).length})`);
  check(later.some((e) => e.kind === 'interaction_resolved' && /"/.test(e.text)), 'the feed shows dialogue lines');

  // The graph renders its nodes (WebGL, read back right after a render).
  await observer.waitForFunction(() => Number(document.querySelector('[data-testid="graph"]').dataset.nodeCount) > 0, null, { timeout: T });
  const nodes = await observer.$eval(tid('graph'), (e) => Number(e.dataset.nodeCount));
  const edges = await observer.$eval(tid('graph'), (e) => Number(e.dataset.edgeCount));
  check(nodes === 16 && edges > 0, `the graph holds Harbor Town's 16 characters and ${edges} relationships`);
  await observer.waitForTimeout(1500);
  const painted = await observer.evaluate(() => window.__aion.graph.paintedPixels());
  check(painted > 200, `the WebGL node layer is painted (${painted} pixels)`);

  // An observer has no director controls.
  check(!(await observer.isVisible(tid('controls'))), 'the observer has no control panel');
  check(!(await observer.isVisible(tid('pause'))) && !(await observer.isVisible(tid('inject'))), 'the observer cannot pause or inject');

  // Filtering the feed by kind and character.
  await observer.selectOption(tid('feed-kind'), 'dialogue');
  const dialogue = await feedTexts(observer);
  check(dialogue.length > 0 && dialogue.every((e) => e.kind === 'interaction_resolved'), 'the kind filter keeps dialogue only');
  await observer.selectOption(tid('feed-character'), '0');
  const mara = await feedTexts(observer);
  check(mara.every((e) => e.text.includes('Mara')), `the character filter keeps Mara's events (${mara.length})`);
  await observer.selectOption(tid('feed-character'), '');
  await observer.selectOption(tid('feed-kind'), '');
  await shot(observer, '03-observer');

  // A dropped connection resumes from (epoch, seq): the missed deltas are replayed, none twice.
  await observer.evaluate(() => window.__aion.view.obs.ws.close());
  await observer.waitForFunction(() => document.getElementById('app').dataset.replays === '1', null, { timeout: T });
  await observer.waitForTimeout(1500);
  const seqs = await observer.$$eval(tid('feed-item'), (els) => els.map((e) => Number(e.dataset.seq)));
  check(new Set(seqs).size === seqs.length, `after a reconnect the stream resumed by replay, no event twice (${seqs.length} shown)`);
  const sorted = [...seqs].sort((a, b) => b - a);
  check(sorted.every((x, i) => x === seqs[i]), 'the feed stays in event order across the reconnect');

  // Chat and presence.
  await observer.fill(tid('chat-input'), `hello from ${tag}`);
  await observer.click(tid('chat-send'));
  await director.waitForSelector(`${tid('chat-line')}:has-text("hello from ${tag}")`, { timeout: T });
  check(true, 'a chat line reaches the director');
  await director.waitForSelector(`${tid('presence-user')}:has-text("obs_${tag}")`, { timeout: T });
  check(true, 'the director sees the observer in presence');

  // The director pauses: the clock stops for everyone.
  await director.click(tid('pause'));
  await director.waitForSelector(`${tid('rate')}[data-mode="paused"]`, { timeout: T });
  await observer.waitForSelector(`${tid('rate')}[data-mode="paused"]`, { timeout: T });
  check(true, 'the observer sees the clock paused (clock topic)');
  await observer.waitForTimeout(1200);
  const tp = await tick(observer);
  await observer.waitForTimeout(2000);
  check((await tick(observer)) === tp, `after pause the tick stays at ${tp}`);

  // The director narrates and injects an insult, then steps one tick: both appear in both feeds.
  const line = `The lighthouse goes dark ${tag}`;
  await director.fill(tid('narrate-text'), line);
  await director.click(tid('narrate'));
  await director.selectOption(tid('inject-actor'), '0');
  await director.selectOption(tid('inject-action'), 'insult');
  await director.selectOption(tid('inject-target'), '1');
  await director.click(tid('inject'));
  await director.waitForTimeout(500);
  await shot(director, '04-director-paused');
  await director.click(tid('step'));
  for (const [page, who] of [[director, 'director'], [observer, 'observer']]) {
    await page.waitForSelector(`${tid('feed-item')}[data-kind="narrated"]:has-text("${line}")`, { timeout: T });
    check(true, `the narrated line appears in the ${who}'s feed`);
    await page.waitForSelector(`${tid('feed-item')}[data-kind="injected"]`, { timeout: T });
    const injected = (await feedTexts(page)).filter((e) => e.kind === 'injected');
    check(injected.some((e) => /Mara Quill insult Milo Quill/.test(e.text)), `the injected insult appears in the ${who}'s feed`);
  }
  check((await tick(observer)) === tp + 1, `step advanced exactly one tick (${tp} -> ${tp + 1})`);
  await shot(observer, '05-observer-sees-narration');

  // The character panel (click a dialogue line), the arcs and the metrics.
  await observer.click(`${tid('feed-item')}.dialogue .line >> nth=0`);
  await observer.waitForSelector(`${tid('character-name')}`, { timeout: T });
  const bonds = await observer.$$eval(`${tid('character-bonds')} tr`, (r) => r.length);
  check(bonds > 1, `the character panel shows ${await observer.textContent(tid('character-name'))} with ${bonds - 1} bonds`);
  await shot(observer, '06-character');

  await director.click(tid('resume'));
  await director.waitForSelector(`${tid('rate')}[data-mode="realtime"]`, { timeout: T });
  await observer.waitForSelector(`${tid('rate')}[data-mode="realtime"]`, { timeout: T });
  await observer.waitForFunction((t) => Number(document.querySelector('[data-testid="tick"]').dataset.tick) > t + 1, tp, { timeout: T });
  check(true, 'resume restarts the clock');

  // The director forks the session (REST): a link to the new session appears.
  await director.fill(tid('fork-name'), `Fork ${tag}`);
  await director.click(tid('fork'));
  await director.waitForSelector(`${tid('fork-link')}:has-text("Fork ${tag}")`, { timeout: T });
  check(true, 'the director forked the session');

  await observer.click(tid('tab-metrics'));
  await observer.waitForFunction(() => Number(document.querySelector('[data-testid="metrics"]').dataset.points) > 2, null, { timeout: T });
  check(true, 'metrics charts have points');
  await shot(observer, '07-metrics');
  await observer.click(tid('tab-arcs'));
  await observer.waitForSelector(tid('arcs'), { state: 'visible', timeout: T });
  await observer.waitForSelector(tid('arc'), { timeout: 30_000 });
  check((await observer.$$(tid('arc'))).length > 0, 'story arcs are listed');
  await observer.click(`${tid('arc')} summary >> nth=0`);
  await shot(observer, '08-arcs');

  check(problems.length === 0, `no page or console errors${problems.length ? `: ${problems.join('; ')}` : ''}`);
  console.log('all checks passed');
} catch (e) {
  console.error(e.message);
  if (problems.length) console.error(problems.join('\n'));
  for (const [i, p] of browser.contexts().flatMap((c) => c.pages()).entries()) {
    await p.screenshot({ path: join(artifacts, `failure-${i}.png`) }).catch(() => {});
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
