// The Aion observatory: sign in, pick a session, watch it live and (as a director) steer it.

import './style.css';
import { api, Observatory } from './net.js';
import { h, fill, options } from './dom.js';
import { GraphView } from './graph.js';
import { lineChart, barChart } from './charts.js';
import { describe, kindOf, actorsOf } from './describe.js';
import { moodColor, SERIES } from './colors.js';

const ROOT = document.getElementById('app');
const TOPICS = ['feed', 'graph', 'metrics', 'arcs', 'presence', 'chat', 'clock'];
const FEED_MAX = 2000;
const FEED_SHOWN = 150;
const METRICS_MAX = 600;
const MOOD_HISTORY = 300;
const ACTIONS = ['chat', 'help', 'compliment', 'insult', 'confide', 'gossip', 'apologize', 'betray', 'ally', 'mediate',
  'threaten', 'comfort', 'flirt', 'confess'];
const EMOTIONS = ['joy', 'distress', 'hope', 'fear', 'pride', 'shame', 'admiration', 'reproach', 'gratitude', 'anger',
  'gratification', 'remorse', 'liking', 'disliking', 'happy for', 'pity', 'resentment', 'gloating', 'relief',
  'disappointment'];
const TRAITS = ['openness', 'conscientiousness', 'extraversion', 'agreeableness', 'neuroticism'];
const DIRECTORS = new Set(['director', 'owner']);

const auth = {
  token: localStorage.getItem('aion.token'),
  user: JSON.parse(localStorage.getItem('aion.user') || 'null'),
};
let view = null; // the session view on screen, if any

function saveAuth(token, user) {
  auth.token = token;
  auth.user = user;
  if (token) {
    localStorage.setItem('aion.token', token);
    localStorage.setItem('aion.user', JSON.stringify(user));
  } else {
    localStorage.removeItem('aion.token');
    localStorage.removeItem('aion.user');
  }
}

function go(path) {
  if (location.pathname !== path) history.pushState(null, '', path);
  route();
}

window.addEventListener('popstate', route);

async function route() {
  if (view) {
    view.close();
    view = null;
  }
  if (!auth.token) return showLogin();
  const m = location.pathname.match(/^\/session\/(\d+)/);
  if (m) return showSession(Number(m[1]));
  return showSessions();
}

function topbar(...right) {
  return h(
    'header.top',
    h('a.brand', { href: '/', onclick: (e) => (e.preventDefault(), go('/')) }, 'Aion observatory'),
    h('div.grow'),
    ...right,
    auth.user
      ? [
          h('span.me', { testid: 'me' }, auth.user.username),
          h('button.link', { testid: 'sign-out', onclick: () => (saveAuth(null, null), go('/')) }, 'Sign out'),
        ]
      : null,
  );
}

// ---------- sign in ----------

function showLogin() {
  const user = h('input', { testid: 'username', placeholder: 'username', autocomplete: 'username', required: true });
  const pass = h('input', {
    testid: 'password', type: 'password', placeholder: 'password (8+ characters)', autocomplete: 'current-password',
  });
  const msg = h('p.error', { testid: 'login-error' });
  const submit = async (register) => {
    msg.textContent = '';
    const body = { username: user.value.trim(), password: pass.value };
    try {
      if (register) await api('POST', '/auth/register', null, body);
      const t = await api('POST', '/auth/login', null, body);
      saveAuth(t.token, t.user);
      route();
    } catch (e) {
      msg.textContent = e.message;
    }
  };
  fill(
    ROOT,
    topbar(),
    h(
      'main.center',
      h(
        'form.card',
        { testid: 'login', onsubmit: (e) => (e.preventDefault(), submit(false)) },
        h('h2', 'Sign in'),
        h('p.muted', 'Watch social worlds unfold live: who talks to whom, how bonds shift, which stories emerge.'),
        user,
        pass,
        h(
          'div.row',
          h('button', { type: 'submit', testid: 'sign-in' }, 'Sign in'),
          h('button.secondary', { type: 'button', testid: 'register', onclick: () => submit(true) }, 'Register'),
        ),
        msg,
      ),
    ),
  );
}

// ---------- session list ----------

async function showSessions() {
  const list = h('div.sessions', { testid: 'sessions' }, 'Loading…');
  const msg = h('p.error', { testid: 'sessions-error' });
  const name = h('input', { testid: 'new-session-name', placeholder: 'name', value: 'My world' });
  const scenario = h('select', { testid: 'new-session-scenario' });
  const pub = h('input', { type: 'checkbox', checked: true, testid: 'new-session-public' });
  fill(
    ROOT,
    topbar(),
    h(
      'main.center',
      h('section.card.wide', h('h2', 'Sessions'), list, msg),
      h(
        'form.card.wide',
        {
          testid: 'new-session',
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              const s = await api('POST', '/sessions', auth.token, {
                name: name.value.trim(),
                scenario: scenario.value,
                public: pub.checked,
                rate: { mode: 'realtime', ticks_per_second: 2 },
              });
              go(`/session/${s.id}`);
            } catch (err) {
              msg.textContent = err.message;
            }
          },
        },
        h('h3', 'Start a world'),
        h('div.row', name, scenario, h('label', pub, ' public'), h('button', { type: 'submit', testid: 'create' }, 'Create')),
      ),
    ),
  );
  try {
    const [sessions, scenarios] = await Promise.all([
      api('GET', '/sessions', auth.token),
      api('GET', '/scenarios', auth.token).catch(() => []),
    ]);
    options(scenario, scenarios.map((s) => [s.name, `${s.world} (${s.characters})`]));
    fill(
      list,
      sessions.length ? null : h('p.muted', 'No sessions yet.'),
      sessions.map((s) =>
        h(
          'div.session',
          { testid: 'session', dataset: { id: s.id } },
          h('div.grow', h('b', s.name), h('div.muted', `${s.scenario} · ${s.live ? `tick ${s.live.tick} · ${s.live.characters} characters · ${s.live.subscribers} watching` : s.state}`)),
          h('span.role', s.role || (s.public ? 'public' : '')),
          h(
            'button',
            {
              testid: 'watch',
              onclick: async () => {
                try {
                  if (!s.role) await api('POST', `/sessions/${s.id}/join`, auth.token);
                  go(`/session/${s.id}`);
                } catch (err) {
                  msg.textContent = err.message;
                }
              },
            },
            s.role ? 'Watch' : 'Join',
          ),
        ),
      ),
    );
  } catch (e) {
    if (e.status === 401) {
      saveAuth(null, null);
      return route();
    }
    msg.textContent = e.message;
  }
}

// ---------- a live session ----------

async function showSession(id) {
  try {
    // Members keep their role; anyone else joins a public session as an observer.
    await api('POST', `/sessions/${id}/join`, auth.token);
  } catch (e) {
    if (e.status === 401) {
      saveAuth(null, null);
      return route();
    }
  }
  view = new SessionView(id);
}

class SessionView {
  constructor(id) {
    this.id = id;
    this.chars = new Map();
    this.feed = [];
    this.arcs = new Map();
    this.metrics = [];
    this.presence = [];
    this.chat = [];
    this.role = 'observer';
    this.you = null;
    this.tick = 0;
    this.rate = null;
    this.selected = null;
    this.detail = null;
    this.moodHistory = [];
    this.dirty = new Set();
    this.frame = 0;
    this.build();
    this.obs = new Observatory(id, auth.token, TOPICS, {
      onHello: (f) => this.hello(f),
      onSnapshot: (f) => this.snapshot(f),
      onReplay: (f) => this.replay(f),
      onDelta: (f) => this.delta(f),
      onAck: (a) => this.ack(a),
      onError: (e) => this.notice(`${e.code}: ${e.message}`, true),
      onState: (s) => (this.el.conn.textContent = s),
      onFatal: (code) => this.notice(`disconnected (${code}); reload to retry`, true),
    });
    this.charObs = null;
  }

  close() {
    this.obs.close();
    this.charObs?.close();
    this.graph.kill();
    cancelAnimationFrame(this.frame);
    window.__aion = undefined;
  }

  // --- layout ---
  build() {
    const el = (this.el = {});
    el.world = h('b', { testid: 'world-name' }, '…');
    el.tick = h('span', { testid: 'tick' }, '');
    el.rate = h('span', { testid: 'rate' }, '');
    el.role = h('span.role', { testid: 'role' }, '');
    el.conn = h('span.muted', { testid: 'conn' }, '');
    el.notice = h('div.notice', { testid: 'notice' });
    el.graph = h('div.graph', { testid: 'graph' });
    el.legend = h(
      'div.legend',
      h('span', h('i', { style: { background: moodColor(-1) } }), 'unhappy'),
      h('span', h('i', { style: { background: moodColor(1) } }), 'happy'),
      h('span', h('i.edge', { style: { background: '#d64545' } }), 'hostile'),
      h('span', h('i.edge', { style: { background: '#3abb62' } }), 'warm (thicker: more trust)'),
      h('span', h('i.hull'), 'alliance'),
    );
    // feed
    el.feedChar = h('select', { testid: 'feed-character', onchange: () => this.renderFeed(true) });
    el.feedKind = h('select', { testid: 'feed-kind', onchange: () => this.renderFeed(true) });
    el.feed = h('ol.feed', { testid: 'feed' });
    // tabs
    el.tabs = {};
    el.panes = {};
    const tab = (key, label) => {
      el.tabs[key] = h('button.tab', { testid: `tab-${key}`, onclick: () => this.showTab(key) }, label);
      return el.tabs[key];
    };
    el.character = h('div.pane.character', { testid: 'character-panel' }, h('p.muted', 'Click a character in the graph or the feed.'));
    el.arcs = h('div.pane.arcs', { testid: 'arcs' });
    el.metrics = h('div.pane.metrics', { testid: 'metrics' });
    el.panes = { character: el.character, arcs: el.arcs, metrics: el.metrics };
    el.charts = {
      mood: h('canvas.chart', { testid: 'chart-mood' }),
      interactions: h('canvas.chart', { testid: 'chart-interactions' }),
      bonds: h('canvas.chart', { testid: 'chart-bonds' }),
      arcKinds: h('canvas.chart.tall', { testid: 'chart-arcs' }),
    };
    fill(
      el.metrics,
      h('h4', 'Mean mood'),
      el.charts.mood,
      h('h4', 'Interactions and events per tick'),
      el.charts.interactions,
      h('h4', 'Mean affinity and trust'),
      el.charts.bonds,
      h('h4', 'Story arcs by kind (open / finished)'),
      el.charts.arcKinds,
    );
    // side: controls, presence, chat
    el.controls = this.buildControls();
    el.presence = h('ul.presence', { testid: 'presence' });
    el.chatLog = h('ol.chat', { testid: 'chat-log' });
    el.chatInput = h('input', { testid: 'chat-input', placeholder: 'Say something…', maxLength: 1000 });
    const chatForm = h(
      'form.row',
      {
        onsubmit: (e) => {
          e.preventDefault();
          const text = el.chatInput.value.trim();
          if (text) this.obs.send({ type: 'chat', text });
          el.chatInput.value = '';
        },
      },
      el.chatInput,
      h('button', { type: 'submit', testid: 'chat-send' }, 'Send'),
    );
    fill(
      ROOT,
      topbar(el.conn),
      h(
        'div.status',
        el.world,
        el.tick,
        el.rate,
        h('span', 'you are ', el.role),
        el.notice,
      ),
      h(
        'main.live',
        h(
          'aside.side',
          el.controls,
          h('section.box', h('h3', 'Watching'), el.presence),
          h('section.box.chatbox', h('h3', 'Chat'), el.chatLog, chatForm),
        ),
        h(
          'section.middle',
          h('div.graphwrap', el.graph, el.legend),
          h(
            'div.tabs',
            h('nav', tab('character', 'Character'), tab('arcs', 'Story arcs'), tab('metrics', 'Metrics')),
            el.character,
            el.arcs,
            el.metrics,
          ),
        ),
        h(
          'section.feedbox',
          h('h3', 'Interactions'),
          h('div.row.filters', el.feedChar, el.feedKind),
          el.feed,
        ),
      ),
    );
    this.graph = new GraphView(el.graph, (cid) => this.select(cid));
    window.__aion = { view: this, graph: this.graph };
    this.showTab('metrics');
  }

  buildControls() {
    const el = this.el;
    const sel = (testid) => h('select', { testid });
    el.actor = sel('inject-actor');
    el.action = sel('inject-action');
    options(el.action, ACTIONS.map((a) => [a, a]));
    el.target = sel('inject-target');
    el.narrate = h('input', { testid: 'narrate-text', placeholder: 'A line of story…', maxLength: 500 });
    el.speed = h(
      'select',
      { testid: 'speed', onchange: () => this.setSpeed(el.speed.value) },
      ['0.5', '1', '2', '5', '10', '30', 'fast'].map((s) => h('option', { value: s }, s === 'fast' ? 'fast' : `${s} ticks/s`)),
    );
    el.possessWho = sel('possess-character');
    el.forkName = h('input', { testid: 'fork-name', placeholder: 'fork name (optional)' });
    el.forkResult = h('div', { testid: 'fork-result' });
    const ctl = (op) => () => this.obs.request('control', { op: { op } });
    const cmd = (command) => this.obs.request('command', { command });
    el.directorOnly = h(
      'div',
      h(
        'div.row',
        h('button', { testid: 'pause', onclick: ctl('pause') }, 'Pause'),
        h('button', { testid: 'resume', onclick: ctl('resume') }, 'Resume'),
        h('button', { testid: 'step', onclick: ctl('step') }, 'Step'),
      ),
      h('div.row', h('label', 'Speed '), el.speed),
      h('h4', 'Inject an interaction'),
      h('div.row', el.actor, el.action, el.target),
      h(
        'button',
        {
          testid: 'inject',
          onclick: () =>
            cmd({ inject: { actor: Number(el.actor.value), action: el.action.value, target: Number(el.target.value) } }),
        },
        'Inject',
      ),
      h('h4', 'Narrate'),
      h(
        'form.row',
        {
          onsubmit: (e) => {
            e.preventDefault();
            const text = el.narrate.value.trim();
            if (text) cmd({ narrate: { text } });
            el.narrate.value = '';
          },
        },
        el.narrate,
        h('button', { type: 'submit', testid: 'narrate' }, 'Narrate'),
      ),
      h('h4', 'Fork'),
      h('div.row', el.forkName, h('button', { testid: 'fork', onclick: () => this.fork() }, 'Fork')),
      el.forkResult,
    );
    el.playerPart = h(
      'div',
      h('h4', 'Possess a character'),
      h(
        'div.row',
        el.possessWho,
        h(
          'button',
          { testid: 'possess', onclick: () => cmd({ possess: { character: Number(el.possessWho.value), user: this.you?.user } }) },
          'Possess',
        ),
        h('button.secondary', { testid: 'release', onclick: () => cmd({ release: { character: Number(el.possessWho.value) } }) }, 'Release'),
      ),
    );
    return h('section.box.controls', { testid: 'controls', hidden: true }, h('h3', 'Director'), el.directorOnly, el.playerPart);
  }

  showTab(key) {
    for (const [k, p] of Object.entries(this.el.panes)) p.hidden = k !== key;
    for (const [k, t] of Object.entries(this.el.tabs)) t.classList.toggle('on', k === key);
    this.tab = key;
    this.mark('panes');
  }

  notice(text, bad) {
    const n = this.el.notice;
    n.textContent = text;
    n.classList.toggle('bad', !!bad);
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (n.textContent = ''), 6000);
  }

  name(id) {
    return this.chars.get(id)?.name ?? `#${id}`;
  }

  // --- protocol ---
  hello(f) {
    const p = f.payload;
    this.you = p.you;
    this.role = p.you.role;
    this.rate = p.rate;
    this.el.role.textContent = this.role;
    ROOT.dataset.role = this.role;
    const canDirect = DIRECTORS.has(this.role);
    this.el.controls.hidden = !(canDirect || this.role === 'player');
    this.el.directorOnly.hidden = !canDirect;
    this.el.controls.querySelector('h3').textContent = canDirect ? 'Director' : 'Player';
    this.mark('status');
  }

  snapshot(f) {
    const p = f.payload;
    this.tick = f.tick;
    this.rate = p.rate || this.rate;
    this.el.world.textContent = `${p.session?.name ?? ''} — ${p.world?.name ?? ''}`;
    this.chars = new Map(p.characters.map((c) => [c.id, c]));
    if (p.feed) this.feed = p.feed.slice(-FEED_MAX);
    if (p.arcs) this.arcs = new Map(p.arcs.map((a) => [String(a.id), a]));
    if (p.metrics) this.metrics = p.metrics.slice(-METRICS_MAX);
    if (p.presence) this.presence = p.presence;
    if (p.chat) this.chat = p.chat;
    if (p.relationships) this.graph.load(p.characters, p.relationships, p.groups);
    const pairs = [...this.chars.values()].map((c) => [c.id, c.name]);
    options(this.el.actor, pairs);
    options(this.el.target, pairs);
    if (this.el.target.selectedIndex === 0 && pairs.length > 1) this.el.target.selectedIndex = 1;
    options(this.el.possessWho, pairs);
    options(this.el.feedChar, [['', 'all characters'], ...pairs]);
    this.renderFeed(true);
    ['status', 'presence', 'chat', 'panes'].forEach((k) => this.mark(k));
  }

  /** A resumed stream: the missed deltas follow; `data-replays` counts resumptions for tests. */
  replay(f) {
    this.replays = (this.replays || 0) + 1;
    ROOT.dataset.replays = String(this.replays);
    this.notice(`resumed: ${f.payload.count} missed updates replayed`);
  }

  delta(f) {
    this.tick = Math.max(this.tick, f.tick);
    const p = f.payload;
    switch (f.topic) {
      case 'feed':
        this.addFeed(p);
        break;
      case 'graph':
        this.graph.apply(p);
        for (const [id, pl, a, d] of p.moods || []) {
          const c = this.chars.get(id);
          if (c) c.mood = [pl, a, d];
        }
        break;
      case 'metrics':
        this.metrics.push(p);
        if (this.metrics.length > METRICS_MAX) this.metrics.shift();
        this.mark('metrics');
        break;
      case 'arcs':
        for (const a of p) this.arcs.set(String(a.id), a);
        this.mark('arcs');
        break;
      case 'presence':
        this.presence = p;
        this.mark('presence');
        break;
      case 'chat':
        this.chat.push(p);
        if (this.chat.length > 200) this.chat.shift();
        this.mark('chat');
        break;
      case 'clock':
        // Everyone learns of pauses, steps and speed changes, not only the director who made them.
        this.rate = p.rate;
        this.tick = Math.max(this.tick, p.tick);
        break;
      default:
        break;
    }
    this.mark('status');
  }

  ack(a) {
    if (a.status) {
      this.rate = a.status.rate;
      this.tick = Math.max(this.tick, a.status.tick);
      this.notice(`clock: ${this.rateText()}`);
    } else if (a.applied_at_tick !== undefined) {
      this.notice(`command applies before tick ${a.applied_at_tick}`);
    }
    this.mark('status');
  }

  setSpeed(v) {
    const rate = v === 'fast' ? { mode: 'fast' } : { mode: 'realtime', ticks_per_second: Number(v) };
    this.obs.request('control', { op: { op: 'set_rate', rate } });
  }

  async fork() {
    const body = {};
    if (this.el.forkName.value.trim()) body.name = this.el.forkName.value.trim();
    try {
      const s = await api('POST', `/sessions/${this.id}/fork`, auth.token, body);
      fill(this.el.forkResult, 'Forked: ', h('a', { href: `/session/${s.id}`, testid: 'fork-link', onclick: (e) => (e.preventDefault(), go(`/session/${s.id}`)) }, s.name));
    } catch (e) {
      this.notice(e.message, true);
    }
  }

  select(cid) {
    if (!this.chars.has(cid)) return;
    this.selected = cid;
    this.detail = null;
    this.moodHistory = [];
    this.graph.setFocus(cid);
    this.obs.send({ type: 'focus', focus: `character:${cid}` });
    this.charObs?.close();
    this.charObs = new Observatory(this.id, auth.token, [`character:${cid}`], {
      onSnapshot: (f) => this.setDetail(f.tick, f.payload.character?.[String(cid)]),
      onDelta: (f) => this.setDetail(f.tick, f.payload),
    });
    this.showTab('character');
    fill(this.el.character, h('p.muted', `Loading ${this.name(cid)}…`));
  }

  setDetail(tick, d) {
    if (!d || d.id !== this.selected) return;
    this.detail = d;
    const last = this.moodHistory[this.moodHistory.length - 1];
    if (!last || last[0] !== tick) this.moodHistory.push([tick, ...d.mood]);
    if (this.moodHistory.length > MOOD_HISTORY) this.moodHistory.shift();
    this.mark('panes');
  }

  // --- rendering (batched per animation frame) ---
  mark(what) {
    this.dirty.add(what);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = 0;
    const d = this.dirty;
    this.dirty = new Set();
    if (d.has('status')) this.renderStatus();
    if (d.has('presence')) this.renderPresence();
    if (d.has('chat')) this.renderChat();
    const panes = d.has('panes');
    if (this.tab === 'metrics' && (panes || d.has('metrics') || d.has('arcs'))) this.renderMetrics();
    if (this.tab === 'arcs' && (panes || d.has('arcs'))) this.renderArcs();
    if (this.tab === 'character' && panes) this.renderCharacter();
  }

  rateText() {
    const r = this.rate;
    if (!r) return '';
    if (r.mode === 'realtime') return `${r.ticks_per_second} ticks/s`;
    return r.mode;
  }

  renderStatus() {
    this.el.tick.textContent = `tick ${this.tick}`;
    this.el.tick.dataset.tick = String(this.tick);
    this.el.rate.textContent = this.rateText();
    this.el.rate.dataset.mode = this.rate?.mode ?? '';
  }

  renderPresence() {
    fill(
      this.el.presence,
      this.presence.map((u) =>
        h('li', { testid: 'presence-user' }, h('b', u.name), ` ${u.role}`, h('span.muted', ` · ${u.focus}`)),
      ),
    );
  }

  renderChat() {
    fill(
      this.el.chatLog,
      this.chat.map((c) => h('li', { testid: 'chat-line' }, h('b', `${c.name}: `), c.text)),
    );
    this.el.chatLog.scrollTop = this.el.chatLog.scrollHeight;
  }

  // feed
  addFeed(events) {
    this.feed.push(...events);
    if (this.feed.length > FEED_MAX) this.feed.splice(0, this.feed.length - FEED_MAX);
    let newKind = false;
    for (const ev of events) {
      const k = kindOf(ev);
      if (!this.kinds.has(k)) {
        this.kinds.add(k);
        newKind = true;
      }
    }
    if (newKind) this.kindOptions();
    const f = this.feedFilter();
    // Only what the list can show: a big world logs well over a thousand events per tick.
    const items = events.filter(f).slice(-FEED_SHOWN).map((ev) => this.feedItem(ev));
    if (items.length) {
      this.el.feed.prepend(...items.reverse());
      while (this.el.feed.childElementCount > FEED_SHOWN) this.el.feed.lastElementChild.remove();
    }
  }

  kindOptions() {
    const kinds = [...this.kinds].sort();
    options(this.el.feedKind, [
      ['', 'all events'],
      ['dialogue', 'dialogue only'],
      ['notable', 'all but declined / avoided'],
      ...kinds.map((k) => [k, k.replaceAll('_', ' ')]),
    ]);
  }

  feedFilter() {
    const ch = this.el.feedChar.value === '' ? null : Number(this.el.feedChar.value);
    const kind = this.el.feedKind.value;
    return (ev) => {
      const k = kindOf(ev);
      if (kind === 'dialogue' && !ev.text) return false;
      if (kind === 'notable' && (k === 'interaction_declined' || k === 'avoided')) return false;
      if (kind && kind !== 'dialogue' && kind !== 'notable' && k !== kind) return false;
      if (ch !== null && !actorsOf(ev).includes(ch)) return false;
      return true;
    };
  }

  renderFeed(all) {
    if (all || !this.kinds) {
      this.kinds = new Set(this.feed.map(kindOf));
      this.kindOptions();
    }
    const f = this.feedFilter();
    const items = this.feed.filter(f).slice(-FEED_SHOWN).reverse().map((ev) => this.feedItem(ev));
    fill(this.el.feed, items);
  }

  feedItem(ev) {
    const k = kindOf(ev);
    const line = describe(ev, (id) => this.name(id));
    const who = actorsOf(ev);
    return h(
      `li.ev.k-${k}${ev.text ? '.dialogue' : ''}`,
      { testid: 'feed-item', dataset: { kind: k, tick: ev.tick, seq: ev.seq } },
      h('span.t', String(ev.tick)),
      h(
        'span.line',
        { onclick: () => who.length && this.select(who[0]), title: who.map((i) => this.name(i)).join(', ') },
        line,
      ),
    );
  }

  // metrics
  renderMetrics() {
    const m = this.metrics;
    const xs = m.map((r) => r.tick);
    const col = (k) => m.map((r) => r[k]);
    lineChart(this.el.charts.mood, xs, [
      { name: 'pleasure', color: SERIES[2], values: col('mean_pleasure') },
      { name: 'arousal', color: SERIES[1], values: col('mean_arousal') },
      { name: 'dominance', color: SERIES[0], values: col('mean_dominance') },
    ]);
    lineChart(this.el.charts.interactions, xs, [
      { name: 'interactions', color: SERIES[0], values: col('interactions') },
      { name: 'events', color: SERIES[4], values: col('events') },
    ]);
    lineChart(this.el.charts.bonds, xs, [
      { name: 'affinity', color: SERIES[2], values: col('mean_affinity') },
      { name: 'trust', color: SERIES[5], values: col('mean_trust') },
    ]);
    const byKind = new Map();
    for (const a of this.arcs.values()) {
      const e = byKind.get(a.kind) || { open: 0, done: 0 };
      if (a.status === 'open' || a.status === 'climaxed') e.open++;
      else e.done++;
      byKind.set(a.kind, e);
    }
    const rows = [...byKind.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([k, e]) => ({ label: k.replaceAll('_', ' '), parts: [{ value: e.open, color: SERIES[1] }, { value: e.done, color: SERIES[0] }] }));
    this.el.charts.arcKinds.style.height = `${Math.max(40, rows.length * 18 + 6)}px`;
    barChart(this.el.charts.arcKinds, rows);
    this.el.metrics.dataset.points = String(m.length);
  }

  // arcs
  renderArcs() {
    const arcs = [...this.arcs.values()].sort((a, b) => b.updated - a.updated || a.opened - b.opened);
    const open = arcs.filter((a) => a.status === 'open' || a.status === 'climaxed');
    const done = arcs.filter((a) => !(a.status === 'open' || a.status === 'climaxed'));
    const t0 = Math.min(...arcs.map((a) => a.opened), this.tick);
    const span = Math.max(1, this.tick - t0);
    const pos = (t) => `${(100 * (t - t0)) / span}%`;
    const row = (a) => {
      const end = a.status === 'open' || a.status === 'climaxed' ? this.tick : a.updated;
      const roles = (a.roles || []).map(([r, v]) => `${r}: ${v && typeof v === 'object' && 'character' in v ? this.name(v.character) : JSON.stringify(v)}`);
      return h(
        'details.arc',
        { testid: 'arc', dataset: { kind: a.kind, status: a.status } },
        h(
          'summary',
          h('span.kind', a.kind.replaceAll('_', ' ')),
          h('span.muted', ` ${a.stage_name} (${a.stage + 1}/${a.stages_total}) · ${a.status} · ${roles.join(', ')}`),
          h(
            'div.track',
            h('div.bar', { className: `bar ${a.status}`, style: { left: pos(a.opened), width: `calc(${pos(end)} - ${pos(a.opened)})` } }),
            (a.beats || []).map((b) => h('i.beat', { style: { left: pos(b.tick) }, title: `t${b.tick} ${b.beat}: ${b.text}` })),
          ),
        ),
        h('ol.beats', (a.beats || []).map((b) => h('li', h('span.t', `t${b.tick}`), h('b', `${b.beat} `), b.text))),
      );
    };
    // Keep the open/closed state of <details> across re-renders.
    const openIds = new Set([...this.el.arcs.querySelectorAll('details[open]')].map((d) => d.dataset.id));
    const mk = (a) => {
      const r = row(a);
      r.dataset.id = String(a.id);
      if (openIds.has(String(a.id))) r.open = true;
      return r;
    };
    fill(
      this.el.arcs,
      h('h4', `Open (${open.length})`),
      open.length ? open.map(mk) : h('p.muted', 'None yet.'),
      h('h4', `Finished (${done.length})`),
      done.slice(0, 100).map(mk),
    );
  }

  // character
  renderCharacter() {
    const d = this.detail;
    if (!d) return;
    const el = this.el.character;
    const bar = (v, lo = -1) => {
      const t = (v - lo) / (1 - lo);
      return h('span.meter', h('span', { style: { width: `${Math.max(0, Math.min(1, t)) * 100}%` } }));
    };
    const emotions = (d.emotions?.intensity || [])
      .map((v, i) => [EMOTIONS[i] || `#${i}`, v])
      .filter(([, v]) => v > 0.05)
      .sort((a, b) => b[1] - a[1]);
    const goals = d.goals?.list || [];
    const plan = d.goals?.plan;
    const canvas = h('canvas.chart', { testid: 'chart-character-mood' });
    const mem = (m) => {
      const kind = typeof m.kind === 'string' ? m.kind : Object.entries(m.kind).map(([k, v]) => `${k} ${v}`).join(' ');
      return h('li', h('span.t', `t${m.tick}`), `${kind.replaceAll('_', ' ')} with ${this.name(m.other)} `, h('span', { style: { color: moodColor(m.valence) } }, m.valence.toFixed(2)));
    };
    fill(
      el,
      h('h3', { testid: 'character-name' }, d.name, h('span.muted', ` (${d.key}) · status ${d.status ?? '?'} · energy ${d.energy ?? '?'}`)),
      h(
        'div.cols',
        h(
          'div',
          h('h4', 'Personality'),
          h('table.kv', TRAITS.map((t) => h('tr', h('td', t), h('td', bar(d.personality[t])), h('td', d.personality[t].toFixed(2))))),
          h('h4', 'Mood (now / baseline)'),
          h(
            'table.kv',
            ['pleasure', 'arousal', 'dominance'].map((ax, i) =>
              h('tr', h('td', ax), h('td', bar(d.mood[i])), h('td', `${d.mood[i].toFixed(2)} / ${d.baseline[i].toFixed(2)}`)),
            ),
          ),
          canvas,
          h('h4', 'Emotions'),
          emotions.length
            ? h('table.kv', emotions.map(([n, v]) => h('tr', h('td', n), h('td', bar(v, 0)), h('td', v.toFixed(2)))))
            : h('p.muted', 'calm'),
          d.needs ? [h('h4', 'Needs'), h('table.kv', Object.entries(d.needs).map(([k, v]) => h('tr', h('td', k), h('td', bar(v, 0)), h('td', Number(v).toFixed(2)))))] : null,
        ),
        h(
          'div',
          h('h4', 'Bonds'),
          h(
            'table.kv.bonds',
            { testid: 'character-bonds' },
            h('tr', h('th', 'with'), h('th', 'affinity'), h('th', 'trust'), h('th', 'respect')),
            [...d.bonds]
              .sort((a, b) => b[2] - a[2])
              .map((b) =>
                h('tr', h('td', h('a', { href: '#', onclick: (e) => (e.preventDefault(), this.select(b[1])) }, b[7])), h('td', { style: { color: moodColor(b[2]) } }, b[2].toFixed(2)), h('td', b[3].toFixed(2)), h('td', b[4].toFixed(2))),
              ),
          ),
          h('h4', 'Goals and plan'),
          goals.length ? h('ul', goals.map((g) => h('li', goalText(g, (i) => this.name(i))))) : h('p.muted', 'no goals'),
          plan ? h('p', 'Plan: ', goalText(plan, (i) => this.name(i))) : null,
          h('h4', 'Story arcs'),
          d.arcs.length ? h('ul', d.arcs.map((a) => h('li', `${a.kind} — ${a.stage} (${a.status})`))) : h('p.muted', 'none'),
          h('h4', 'Recent memories'),
          h('ol.mem', (d.memories || []).map(mem)),
        ),
      ),
    );
    const hs = this.moodHistory;
    requestAnimationFrame(() =>
      lineChart(
        canvas,
        hs.map((r) => r[0]),
        [
          { name: 'pleasure', color: SERIES[2], values: hs.map((r) => r[1]) },
          { name: 'arousal', color: SERIES[1], values: hs.map((r) => r[2]) },
          { name: 'dominance', color: SERIES[0], values: hs.map((r) => r[3]) },
        ],
        [-1, 1],
      ),
    );
  }
}

/** A goal or plan object as text (its shape comes from the engine; names replace ids). */
function goalText(g, name) {
  if (g === null || g === undefined) return '';
  if (typeof g !== 'object') return String(g);
  const parts = [];
  for (const [k, v] of Object.entries(g)) {
    if (v === null || v === undefined) continue;
    if ((k === 'target' || k === 'character' || k === 'other') && typeof v === 'number') parts.push(`${k} ${name(v)}`);
    else if (typeof v === 'number') parts.push(`${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`);
    else if (typeof v === 'string') parts.push(`${k} ${v.replaceAll('_', ' ')}`);
    else if (Array.isArray(v)) parts.push(`${k} [${v.map((x) => (typeof x === 'object' ? goalText(x, name) : x)).join('; ')}]`);
    else parts.push(`${k} {${goalText(v, name)}}`);
  }
  return parts.join(', ');
}

route();
