// One line of text per engine event, for the feed (dialogue lines come rendered by the server).

const PEOPLE = ['initiator', 'target', 'character', 'actor', 'a', 'b', 'betrayer', 'victim', 'teller', 'hearer', 'subject',
  'source', 'leader', 'about', 'by', 'other'];
const GROUPS = ['members', 'characters', 'joined', 'left', 'actors'];

function who(v, name) {
  if (v && typeof v === 'object' && 'character' in v) return name(v.character);
  if (typeof v === 'number') return name(v);
  return v;
}

const words = (k) => k.replaceAll('_', ' ');

/** The event's kind name (its only key). */
export function kindOf(ev) {
  return typeof ev.kind === 'string' ? ev.kind : Object.keys(ev.kind)[0];
}

/** Character ids an event involves. */
export function actorsOf(ev) {
  const k = kindOf(ev);
  const body = typeof ev.kind === 'object' ? ev.kind[k] : {};
  const ids = [];
  for (const f of PEOPLE) {
    const v = body?.[f];
    if (typeof v === 'number') ids.push(v);
    else if (v && typeof v === 'object' && typeof v.character === 'number') ids.push(v.character);
  }
  for (const f of GROUPS) {
    if (Array.isArray(body?.[f])) for (const x of body[f]) if (typeof x === 'number') ids.push(x);
  }
  return ids;
}

/** A readable line. `name(id)` gives a character's display name. */
export function describe(ev, name) {
  if (ev.text) return ev.text;
  const k = kindOf(ev);
  const b = typeof ev.kind === 'object' ? ev.kind[k] || {} : {};
  switch (k) {
    case 'narrated':
      return `📜 ${b.text}`;
    case 'interaction_declined':
      return `${name(b.initiator)} wanted to ${words(b.action)} ${name(b.target)} (${words(b.reason || 'declined')})`;
    case 'avoided':
      return `${name(b.character)} avoided ${name(b.target)}`;
    case 'injected':
      return `Director made ${name(b.actor)} ${words(b.action)} ${name(b.target)}`;
    case 'goal_changed':
      return `${name(b.character)} ${b.change} goal ${words(b.kind)}${b.target !== undefined && b.target !== null ? ` → ${name(b.target)}` : ''}`;
    case 'plan_changed':
      return `${name(b.character)}'s plan for ${words(b.goal)} ${b.change}: ${words(b.action)} ${name(b.target)}`;
    case 'arc_advanced':
      return `${words(b.kind ?? 'story')} arc: ${words(b.stage ?? '')} (${b.status ?? ''}) — ${(b.characters || []).map(name).join(', ')}`;
    case 'bond_crossed':
    case 'trust_broken':
    case 'conflict_escalated':
    case 'rumor_spread':
    default: {
      const parts = [];
      for (const [f, v] of Object.entries(b)) {
        if (v === null || f === 'cause') continue;
        if (PEOPLE.includes(f)) parts.push(`${f} ${who(v, name)}`);
        else if (typeof v === 'number') parts.push(`${f} ${Number.isInteger(v) ? v : v.toFixed(2)}`);
        else if (typeof v === 'string') parts.push(`${f} ${words(v)}`);
        else if (Array.isArray(v) && v.every((x) => typeof x === 'number') && GROUPS.includes(f))
          parts.push(`${f} ${v.map(name).join(', ')}`);
      }
      return `${words(k)}: ${parts.join(', ')}`;
    }
  }
}
